/**
 * What this browser must offer before anybody types a password: a secure context
 * (WebCrypto exists only on https or localhost) and WebCrypto's Ed25519.
 * @module ui/environment
 */

/**
 * @typedef {object} Problem
 * @property {string} title  one line a person reads first
 * @property {string} text   what is wrong, plainly
 * @property {string} hint   what to do about it
 */

/**
 * Check the browser; resolve to null when all is well, else the problem to show.
 * @param {typeof globalThis} scope the window (a parameter so the check reads clearly)
 * @returns {Promise<Problem | null>}
 */
export async function checkEnvironment(scope) {
  if (!scope.isSecureContext) {
    return {
      title: "This page is not on a secure connection",
      text:
        "Sotto encrypts in your browser with WebCrypto, which browsers only offer on https:// " +
        "pages (or on localhost). This page was loaded over plain http, so it cannot work here.",
      hint: `Open it with https:// instead of ${scope.location.protocol}//, or ask the operator to set up TLS.`,
    };
  }
  const subtle = scope.crypto?.subtle;
  if (!subtle) {
    return {
      title: "This browser has no WebCrypto",
      text: "Sotto needs the browser's built-in cryptography (WebCrypto), and this browser does not offer it.",
      hint: "Use a current version of Firefox, Chrome, Edge or Safari.",
    };
  }
  try {
    await subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  } catch {
    return {
      title: "This browser cannot sign with Ed25519",
      text:
        "Sotto signs every message with Ed25519 from WebCrypto, and this browser does not " +
        "support it yet (Chrome and Edge 137 or later, and current Firefox and Safari, do).",
      hint: "Update your browser, or use the sotto command-line client.",
    };
  }
  return null;
}
