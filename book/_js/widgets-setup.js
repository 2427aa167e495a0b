// Loaded just before @jupyter-widgets/html-manager's embed-amd.js, on pages (and slide
// decks) that carry saved widget state. Two things the bundle needs from its page:
(function () {
  "use strict";
  // 1. Where its own files are. The bundle finds its icon fonts relative to the URL that
  //    require.js gives its AMD module "@jupyter-widgets/html-manager/dist/libembed-amd",
  //    which by default is relative to the page. The fonts sit next to this script.
  var here = document.currentScript && document.currentScript.src;
  if (here) {
    var folder = new URL("./", here).href;
    window.__jupyter_widgets_assets_path__ = folder;
    if (window.requirejs) {
      window.requirejs.config({
        paths: { "@jupyter-widgets/html-manager/dist": folder.replace(/\/$/, "") },
      });
    }
  }
  // 2. MathJax 2's API. Widget labels are typeset with MathJax.Hub.Queue(["Typeset",
  //    MathJax.Hub, element]); the book and the slides load MathJax 3, which has
  //    typesetPromise instead. Give MathJax 3 a small Hub that forwards to it. MathJax is
  //    loaded with `defer`, so it exists by DOMContentLoaded, before the widgets render.
  function installHub() {
    var mathjax = window.MathJax;
    if (!mathjax || mathjax.Hub) {
      return;
    }
    mathjax.Hub = {
      Queue: function (command) {
        var element = command && command[2];
        if (element && window.MathJax.typesetPromise) {
          window.MathJax.typesetPromise([element]).catch(function (error) {
            console.warn("MathJax could not typeset a widget label:", error);
          });
        }
      },
    };
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", installHub);
  } else {
    installHub();
  }
})();
