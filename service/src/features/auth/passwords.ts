import argon2 from 'argon2';

export interface HashParams {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** argon2id: memory-hard, so GPU guessing of a leaked hash is expensive. */
export function createPasswordHasher(params: HashParams) {
  const options = { type: argon2.argon2id as 2, ...params };
  return {
    hash: (password: string) => argon2.hash(password, options),
    verify: (hash: string, password: string) => argon2.verify(hash, password).catch(() => false),
    /** True when the stored hash was made with other parameters than today's. */
    needsRehash: (hash: string) => argon2.needsRehash(hash, options),
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
