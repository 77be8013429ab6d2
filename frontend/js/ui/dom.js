/**
 * Small DOM helpers for the page. Text only ever goes in through textContent:
 * nothing here (or anywhere in the page) assigns HTML strings.
 * @module ui/dom
 */

/**
 * The element with this id, or an Error naming it (the template and the code disagree).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`The page has no element #${id}.`);
  return element;
}

/**
 * A fresh copy of the first element inside `<template id=...>`.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function fromTemplate(id) {
  const template = /** @type {HTMLTemplateElement} */ (byId(id));
  const first = template.content.firstElementChild;
  if (!first) throw new Error(`Template #${id} is empty.`);
  return /** @type {HTMLElement} */ (first.cloneNode(true));
}

/**
 * The first descendant matching a selector, or an Error.
 * @param {ParentNode} root
 * @param {string} selector
 * @returns {HTMLElement}
 */
export function part(root, selector) {
  const element = root.querySelector(selector);
  if (!element) throw new Error(`Missing ${selector} in a template.`);
  return /** @type {HTMLElement} */ (element);
}

/**
 * Set an element's text (never its HTML).
 * @param {Element} element
 * @param {string} text
 */
export function setText(element, text) {
  element.textContent = text;
}

/**
 * Remove every child of an element.
 * @param {Element} element
 */
export function clear(element) {
  element.replaceChildren();
}

const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;

/**
 * Give an element a member's colour through a CSS custom property (CSSOM, which
 * the CSP allows; inline style attributes it does not). Bad colours are ignored.
 * @param {HTMLElement} element
 * @param {string} color "#rrggbb" from the server
 */
export function setMemberColor(element, color) {
  if (typeof color === "string" && HEX_COLOR.test(color)) {
    element.style.setProperty("--member-color", color);
  }
}

/**
 * "14:05" in the person's locale, for a unix time in milliseconds.
 * @param {number} ms
 * @returns {string}
 */
export function clockTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * A number with thin spaces between thousands ("16 384"), the same in every locale.
 * @param {number} n
 * @returns {string}
 */
export function groupDigits(n) {
  const sign = n < 0 ? "\u2212" : "";
  return sign + String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
}
