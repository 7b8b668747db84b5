export * from './signing';
export * from './result-codes';
export * from './requests';
export * from './schemas';
export * from './time';
