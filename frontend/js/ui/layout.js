/**
 * Fold the side panels on narrow screens (phones) and unfold them on wide ones,
 * so the conversation keeps the space on a 360 px screen.
 * @module ui/layout
 */

const NARROW = "(max-width: 760px)";

/**
 * Open or fold the panels to suit the screen, now and whenever it changes.
 * @param {HTMLDetailsElement[]} panels
 */
export function foldPanelsOnNarrowScreens(panels) {
  const query = window.matchMedia(NARROW);
  const apply = () => {
    for (const panel of panels) panel.open = !query.matches;
  };
  apply();
  query.addEventListener("change", apply);
  return apply;
}
