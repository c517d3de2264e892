// The console works without this file; it only makes some parts live.

// A run page refreshes its live part every second while the run is queued or running.
document.querySelectorAll("[data-live]").forEach((part) => {
  const refresh = async () => {
    const response = await fetch(part.dataset.live, { headers: { accept: "text/html" } });
    if (!response.ok) return;
    part.innerHTML = await response.text();
    if (part.querySelector("[data-active]")) setTimeout(refresh, 1000);
  };
  if (part.querySelector("[data-active]")) setTimeout(refresh, 1000);
});

// "Add attribute" adds a data-matching row without a round trip to the server.
document.querySelectorAll("[data-add-row]").forEach((button) => {
  button.addEventListener("click", (event) => {
    const rows = document.getElementById(button.dataset.addRow);
    const template = rows.querySelector("[data-row]:last-of-type");
    if (!template) return;
    event.preventDefault();
    const row = template.cloneNode(true);
    const index = rows.querySelectorAll("[data-row]").length;
    row.querySelectorAll("select, input, label").forEach((element) => {
      for (const name of ["name", "id", "for"]) {
        const value = element.getAttribute(name);
        if (value) element.setAttribute(name, value.replace(/\d+/, String(index)));
      }
      if (element.tagName === "SELECT") element.selectedIndex = 0;
    });
    rows.appendChild(row);
    row.querySelector("select").focus();
  });
});

// Dialogs that confirm a removal.
document.querySelectorAll("[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});

// The segment builder checks and counts the rule as it changes, as "Check and count" does
// without JavaScript. A changed attribute or operator brings the rows back from the server
// (their value boxes follow what they test); typing updates the count and each row's problem.
document.querySelectorAll("form[data-live-builder]").forEach((form) => {
  let pending;
  let waiting;
  // `data-checking` is on the form while a check waits or runs.
  let inFlight = 0;
  const settled = () => {
    if (inFlight === 0 && waiting === undefined) delete form.dataset.checking;
  };
  const check = async (rowsToo) => {
    pending?.abort();
    pending = new AbortController();
    const body = new URLSearchParams(new FormData(form));
    body.set("action", "check");
    inFlight += 1;
    form.dataset.checking = "true";
    try {
      // `form.action` would be the buttons named "action": the attribute is the address.
      const response = await fetch(form.getAttribute("action"), { method: "POST", body, signal: pending.signal });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const focused = document.activeElement?.id;
      const swap = (selector) => {
        const fresh = page.querySelector(selector);
        const old = form.querySelector(selector);
        if (fresh && old) old.replaceWith(fresh);
      };
      if (rowsToo) {
        swap("#builder");
      } else {
        page.querySelectorAll("#builder .row-problem").forEach((fresh) => swap(`#${fresh.id}`));
        form.querySelectorAll("#builder .node").forEach((row) => {
          const problem = Boolean(row.querySelector(":scope > .row-problem p"));
          row.querySelectorAll(":scope > .inline [aria-invalid]").forEach((field) => field.setAttribute("aria-invalid", String(problem)));
        });
      }
      swap("#live-count");
      if (focused) document.getElementById(focused)?.focus();
    } catch {
      // A newer check replaced this one, or the server could not be reached: the form still
      // works as it is.
    } finally {
      inFlight -= 1;
      settled();
    }
  };
  const structural = /\.(attribute|op|aggregate|of|table|window_op|kind)$/;
  form.addEventListener("change", (event) => {
    if (event.target.tagName !== "SELECT") return;
    check(structural.test(event.target.name));
  });
  form.addEventListener("input", (event) => {
    if (event.target.tagName !== "INPUT" || event.target.type === "hidden") return;
    clearTimeout(waiting);
    form.dataset.checking = "true";
    waiting = setTimeout(() => {
      waiting = undefined;
      check(false);
    }, 400);
  });
});
