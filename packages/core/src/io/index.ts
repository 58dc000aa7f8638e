// io: weights files.
export {};
