export * from './signing';
export * from './result-codes';
export * from './schemas';
export * from './time';
