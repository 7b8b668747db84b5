export * from './signing';
export * from './result-codes';
export * from './requests';
export * from './schemas';
export * from './time';
export * from './kit';
export * from './kit-signing';
export * from './kit-crypto';
