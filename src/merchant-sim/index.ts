export * from './server';
export * from './handlers';
export * from './faults';
export * from './store';
export * from './random';
export * from './kit-store';
export * from './kit-handlers';
