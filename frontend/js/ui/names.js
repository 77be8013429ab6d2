/**
 * Friendly names for members, who have no accounts: each is called after the
 * colour the server gave it ("Teal"), with a short piece of its member id added
 * when two members in the room share a colour name. Everyone in the room sees the
 * same colour and id, so everyone derives the same name.
 * @module ui/names
 */

const HUE_NAMES = [
  [15, "Red"], [35, "Orange"], [50, "Amber"], [70, "Olive"], [95, "Lime"], [140, "Green"],
  [165, "Jade"], [185, "Teal"], [200, "Cyan"], [220, "Azure"], [245, "Blue"], [265, "Indigo"],
  [285, "Violet"], [305, "Purple"], [325, "Magenta"], [345, "Pink"], [361, "Red"],
];

/**
 * The hue in degrees of "#rrggbb", or null for a grey or a malformed colour.
 * @param {string} color
 * @returns {number | null}
 */
export function hueOf(color) {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color ?? "");
  if (!match) return null;
  const [r, g, b] = match.slice(1).map((h) => parseInt(h, 16) / 255);
  const max = Math.max(r, g, b);
  const delta = max - Math.min(r, g, b);
  if (delta < 0.04) return null;
  let hue;
  if (max === r) hue = ((g - b) / delta) % 6;
  else if (max === g) hue = (b - r) / delta + 2;
  else hue = (r - g) / delta + 4;
  return (hue * 60 + 360) % 360;
}

/**
 * The colour's name ("Teal"), or "Grey".
 * @param {string} color
 * @returns {string}
 */
export function colorName(color) {
  const hue = hueOf(color);
  if (hue === null) return "Grey";
  for (const [limit, name] of HUE_NAMES) {
    if (hue < limit) return /** @type {string} */ (name);
  }
  return "Red";
}

/**
 * Names for every member of the room, distinct from each other.
 * @param {Iterable<{id: string, color: string}>} members
 * @returns {Map<string, string>} member id -> name
 */
export function memberNames(members) {
  const list = Array.from(members);
  const counts = new Map();
  for (const m of list) counts.set(colorName(m.color), (counts.get(colorName(m.color)) ?? 0) + 1);
  const names = new Map();
  for (const m of list) {
    const base = colorName(m.color);
    names.set(m.id, counts.get(base) > 1 ? `${base} ${m.id.slice(0, 4)}` : base);
  }
  return names;
}
