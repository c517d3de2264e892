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
