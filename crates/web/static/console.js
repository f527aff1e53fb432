// The console's one script, an enhancement: a form marked data-live-count shows how many
// members its audience reaches as the author changes it. Without it, the Count button
// does the same with a page load.
const forms = document.querySelectorAll("form[data-live-count]");
for (const form of forms) {
  const output = form.querySelector("[data-count-output]");
  if (!output) continue;
  let timer;
  let asked = 0;
  const count = async () => {
    const mine = ++asked;
    const body = new URLSearchParams(new FormData(form));
    try {
      const response = await fetch("/admin/audience/count", { method: "POST", body, credentials: "same-origin" });
      const answer = await response.json();
      if (mine !== asked) return;
      output.textContent = answer.size !== null && answer.size !== undefined
        ? `${answer.size.toLocaleString()} member(s) right now`
        : answer.error;
      output.classList.toggle("error", answer.size === null || answer.size === undefined);
    } catch {
      if (mine === asked) output.textContent = "";
    }
  };
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(count, 300);
  });
  count();
}

// A file input marked data-fill="ID" puts the chosen file's text into that textarea, so
// the form posts it like typed text.
for (const input of document.querySelectorAll("input[type=file][data-fill]")) {
  input.addEventListener("change", async () => {
    const target = document.getElementById(input.dataset.fill);
    const file = input.files && input.files[0];
    if (target && file) target.value = await file.text();
  });
}

// A zone chooser marked data-browser-zone starts at the author's own zone (the browser's)
// rather than UTC; without the script it stays at UTC, which the page states.
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
for (const select of document.querySelectorAll("select[data-browser-zone]")) {
  if (select.value === "UTC" && [...select.options].some((o) => o.value === browserZone)) {
    select.value = browserZone;
  }
}
