/**
 * A rough, honest hint about a password's strength against live guessing.
 *
 * SPAKE2 means nobody can test guesses offline, so the only attack is trying
 * guesses in live handshakes (each member accepts five failures a minute, and
 * each failure is shown to the room). What matters is whether the password sits
 * near the top of the lists attackers try first: short, all digits, one word,
 * a keyboard run. The estimate is deliberately simple and errs on the cautious side.
 * @module ui/strength
 */

/** @typedef {"empty" | "weak" | "fair" | "good"} Level */

const COMMON = new Set([
  "password", "passw0rd", "123456", "12345678", "123456789", "1234567890", "qwerty",
  "qwertyuiop", "letmein", "iloveyou", "admin", "welcome", "secret", "abc123", "111111",
  "000000", "dragon", "monkey", "football", "sunshine", "princess", "trustno1", "sotto",
]);

/**
 * Approximate bits of a password made of the given characters, counting the size
 * of the alphabet its characters come from.
 * @param {string} password
 * @returns {number}
 */
export function alphabetBits(password) {
  const chars = Array.from(password);
  let alphabet = 0;
  if (chars.some((c) => /[a-z]/.test(c))) alphabet += 26;
  if (chars.some((c) => /[A-Z]/.test(c))) alphabet += 26;
  if (chars.some((c) => /[0-9]/.test(c))) alphabet += 10;
  if (chars.some((c) => /[ -/:-@[-`{-~]/.test(c))) alphabet += 33;
  if (chars.some((c) => c > "\u007f")) alphabet += 100;
  const distinct = new Set(chars).size;
  // Repeats add little: count distinct characters fully, repeated ones at a quarter.
  const effective = distinct + (chars.length - distinct) / 4;
  return alphabet === 0 ? 0 : effective * Math.log2(alphabet);
}

/**
 * The hint for a password: a level and one sentence to show.
 * @param {string} password
 * @returns {{level: Level, text: string}}
 */
export function assess(password) {
  if (!password) return { level: "empty", text: "" };
  const lowered = password.toLowerCase();
  const words = password.trim().split(/[\s\-_.]+/).filter((w) => w.length >= 3);
  const onlyDigits = /^\d+$/.test(password);
  if (COMMON.has(lowered.replace(/\d+$/, "")) || COMMON.has(lowered) || password.length < 8 ||
      (onlyDigits && password.length < 12)) {
    return {
      level: "weak",
      text: "Weak: among the first things anyone would try. Guessers need to be live, but this one may not last.",
    };
  }
  const bits = alphabetBits(password);
  if (words.length >= 4 || bits >= 60) {
    return { level: "good", text: "Strong: far beyond what live guessing can reach." };
  }
  return {
    level: "fair",
    text: "Fair: hard to guess live. Three or four random words would be stronger.",
  };
}
