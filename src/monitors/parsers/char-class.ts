/** Character-code tests for the hand-written scans that find where a pattern may start. */

/** `0-9`, `A-Z`, `a-z` or `_`: a character that continues a word. */
export function isWordChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 95
  );
}

/** `0-9`. */
export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** `A-Z` or `a-z`. */
export function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}
