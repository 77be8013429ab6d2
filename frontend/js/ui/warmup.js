/**
 * Warm the crypto code while the person is still typing: the first SPAKE2 share a page
 * computes is several times slower than the next (the JIT has not compiled the field
 * arithmetic yet, and the base point's multiplication table is built on first use), and
 * the browser's first PBKDF2 call pays for starting its crypto machinery. One throwaway
 * exchange with random, discarded values and a one-iteration PBKDF2 make the real ones fast.
 * @module ui/warmup
 */

import { computeK, computeShare, randomScalar, ROLE } from "../core/spake2.js";
import { pbkdf2Sha256, randomBytes } from "../core/webcrypto.js";

/** Run one discarded SPAKE2 exchange now. */
export function warmUpSpake2() {
  const w = randomScalar(randomBytes);
  const x = randomScalar(randomBytes);
  const y = randomScalar(randomBytes);
  const pA = computeShare(ROLE.A, w, x);
  const pB = computeShare(ROLE.B, w, y);
  computeK(ROLE.A, w, x, pB);
  computeK(ROLE.B, w, y, pA);
}

/**
 * Warm up when the browser is idle (soon after the page has loaded).
 * @param {HTMLElement} marker gets data-warm="1" when done (the timing benchmark waits for it)
 */
export function warmUpWhenIdle(marker) {
  const run = async () => {
    try {
      warmUpSpake2();
      await pbkdf2Sha256(randomBytes(16), randomBytes(16), 1, 32);
    } catch {
      // Only an optimisation: the real exchange reports its own errors.
    }
    marker.dataset.warm = "1";
  };
  if ("requestIdleCallback" in window) window.requestIdleCallback(run, { timeout: 500 });
  else window.setTimeout(run, 50);
}
