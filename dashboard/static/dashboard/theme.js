// Applies the stored light/dark choice before the page paints (a classic script in <head>).
// Without a stored choice the stylesheet follows prefers-color-scheme.
(function () {
  try {
    var theme = window.localStorage.getItem("cryptohub-theme");
    if (theme === "dark" || theme === "light") {
      document.documentElement.setAttribute("data-theme", theme);
    }
  } catch (error) {
    // Storage may be disabled (privacy mode): the system preference still applies.
  }
})();
