// The frame's behaviour on every page: the light/dark toggle and the live feed's status line.
import { feed } from "/static/dashboard/feed.js";

const STORAGE_KEY = "cryptohub-theme";

function currentTheme() {
  const chosen = document.documentElement.getAttribute("data-theme");
  if (chosen) return chosen;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function toggleTheme() {
  const next = currentTheme() === "dark" ? "light" : "dark";
  document.documentElement.setAttribute("data-theme", next);
  try {
    window.localStorage.setItem(STORAGE_KEY, next);
  } catch (error) {
    // Not stored: the choice lasts for this page only.
  }
  document.dispatchEvent(new CustomEvent("cryptohub:theme", { detail: { theme: next } }));
}

const toggle = document.getElementById("theme-toggle");
if (toggle) toggle.addEventListener("click", toggleTheme);

const online = document.getElementById("feed-online");
feed.onPresence((count) => {
  if (online) online.textContent = `${count} online`;
});
feed.connect();
