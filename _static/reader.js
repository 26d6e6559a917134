/*
 * Reader fixes on top of sphinx-book-theme (issue 10); Jupyter Book adds every .js file of
 * _static/ to every page.
 *
 * 1. Workaround: the sidebar drawers open on phones and tablets.
 *
 * pydata-sphinx-theme 0.17 (setupMobileSidebarKeyboardHandlers) and sphinx-book-theme 1.3
 * (fixSidebarToggle) bind their click handlers with document.querySelector(".primary-toggle")
 * and (".secondary-toggle"): only the FIRST such button on the page, a header button that
 * sphinx-book-theme hides. The buttons a reader sees (in the article header) get no handler, so
 * tapping ☰ or the page-contents button only shows a tooltip.
 * Upstream: pydata/pydata-sphinx-theme#2451, executablebooks/sphinx-book-theme#935 (fix
 * proposed in sphinx-book-theme#991 / #1000: bind every toggle, or drop the hidden duplicates).
 *
 * What this does: a click on any other toggle is forwarded to the first one, so the themes' own
 * handlers run (a <dialog> drawer below 992 px, collapsing the sidebar on wide screens). The
 * drawer closes with Escape or a tap on the backdrop (the themes' handlers). The forwarding
 * listener runs in the capture phase and stops the button's own listeners, so a theme release
 * that binds every toggle cannot open a drawer twice.
 * Remove this file once the pinned theme contains the upstream fix.
 */
(function () {
  "use strict";
  function forwardToggles(selector) {
    const all = Array.from(document.querySelectorAll(selector));
    const bound = all[0];
    if (!bound) return;
    all.slice(1).forEach((button) => {
      button.addEventListener(
        "click",
        (event) => {
          event.preventDefault();
          event.stopImmediatePropagation();
          button.blur();
          bound.click();
        },
        true,
      );
    });
  }

  /*
   * Animation players (matplotlib's to_jshtml template) have a frame <img> without alt text
   * and a frame slider without a label (axe: image-alt and label, both critical). Name them
   * after the figure's caption when there is one; keep any alt/label the page already has.
   */
  function labelPlayers() {
    document.querySelectorAll(".animation").forEach((player) => {
      const caption = player.closest("figure")?.querySelector("figcaption")?.textContent.trim();
      const name = caption ? caption.replace(/^Fig(ure|\.)\s*[\d.]+\s*/, "") : "Animation";
      const img = player.querySelector("img");
      if (img && !img.hasAttribute("alt")) img.setAttribute("alt", `${name} (animation frame)`);
      const slider = player.querySelector("input[type=range]");
      if (slider && !slider.hasAttribute("aria-label") && !slider.labels?.length) {
        slider.setAttribute("aria-label", "Animation frame");
      }
    });
  }

  /*
   * 3. Accessible names that contain the visible label (axe: label-content-name-mismatch,
   *    WCAG 2.5.3, serious). The theme's search field shows "Search Ctrl+K" but is named
   *    "Search"; the colour-mode button shows the current mode's icon, named "Color mode"
   *    while its icons carry titles. Upstream: pydata/pydata-sphinx-theme templates
   *    (search-button-field.html, theme-switcher.html). The name becomes the visible text.
   */
  function fixAccessibleNames() {
    document.querySelectorAll(".search-button-field[aria-label]").forEach((button) => {
      const visible = button.textContent.replace(/\s+/g, " ").replace(/\s*\+\s*/g, "+").trim();
      if (visible) button.setAttribute("aria-label", visible);
    });
    // The icons are decoration (the button's name says what it does). Font Awesome's script
    // turns each <i title> into an <svg role="img"><title> at some point after load: hide them.
    document.querySelectorAll(".theme-switch-button [title]").forEach((icon) => icon.removeAttribute("title"));
    document.querySelectorAll(".theme-switch-button svg title").forEach((title) => title.remove());
    document.querySelectorAll(".theme-switch-button i, .theme-switch-button svg").forEach((icon) => {
      if (icon.getAttribute("aria-hidden") !== "true") icon.setAttribute("aria-hidden", "true");
    });
    // myst-nb's "Show code cell source" toggles (myst_nb/sphinx_.py) are named "Toggle hidden
    // content"; without the aria-label their name is the visible "Show/Hide code cell source".
    document.querySelectorAll("details.hide > summary[aria-label]").forEach((summary) => {
      summary.removeAttribute("aria-label");
    });
  }

  /*
   * 4. The reference list: docutils writes each entry as role="doc-biblioentry" inside a
   *    role="list" container; ARIA 1.2 allows only listitem children there (axe:
   *    aria-required-children, critical). Entries become list items (the id and the
   *    back-links stay).
   */
  function fixReferenceList() {
    document.querySelectorAll('[role="list"] > [role="doc-biblioentry"]').forEach((entry) => {
      entry.setAttribute("role", "listitem");
    });
  }

  function setup() {
    fixAccessibleNames();
    fixReferenceList();
    forwardToggles(".primary-toggle");
    forwardToggles(".secondary-toggle");
    labelPlayers();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
  window.addEventListener("load", fixAccessibleNames);
  // ... and whenever Font Awesome swaps the colour-mode icons
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".theme-switch-button").forEach((button) => {
      new MutationObserver(fixAccessibleNames).observe(button, { childList: true, subtree: true });
    });
  });

  /*
   * 5. Printing (with _static/reader-print.css): collapsed "Show code cell source" blocks print
   *    open, because the code is part of the argument; they close again afterwards.
   */
  let openedForPrint = [];
  window.addEventListener("beforeprint", () => {
    openedForPrint = Array.from(document.querySelectorAll("details:not([open])"));
    openedForPrint.forEach((details) => { details.open = true; });
  });
  window.addEventListener("afterprint", () => {
    openedForPrint.forEach((details) => { details.open = false; });
    openedForPrint = [];
  });
})();
