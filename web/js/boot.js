// A classic deferred script, run just before the app's module (both wait
// for the parser; this one comes first): when the modules cannot be
// fetched (the network failed mid-load) the page says so and reloads
// itself, a few times, with back-off; app.js clears the count once up.
(function () {
  'use strict';
  var KEY = 'runnel.bootTries';
  var shown = false;

  function tries() {
    try { return Number(sessionStorage.getItem(KEY) || 0); } catch (e) { return 3; }
  }

  function fail() {
    if (shown || window.__runnel) return;
    shown = true;
    var n = tries();
    var main = document.getElementById('main');
    var box = document.createElement('div');
    box.className = 'panel startup';
    box.setAttribute('role', 'alert');
    var h = document.createElement('h1');
    h.textContent = 'The dashboard could not load';
    var p = document.createElement('p');
    p.textContent = n < 3 ? 'Its scripts did not arrive (a network error). Trying again…'
      : 'Its scripts did not arrive (a network error).';
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn primary';
    b.textContent = 'Reload';
    b.addEventListener('click', function () { location.reload(); });
    box.appendChild(h);
    box.appendChild(p);
    box.appendChild(b);
    if (main) main.replaceChildren(box);
    if (n < 3) {
      try { sessionStorage.setItem(KEY, String(n + 1)); } catch (e) { return; }
      setTimeout(function () { location.reload(); }, 1000 * (n + 1));
    }
  }

  var app = document.getElementById('app-script');
  if (app) app.addEventListener('error', fail);
  // A module that failed to fetch may surface as an error on the window.
  window.addEventListener('error', function (e) {
    if (!window.__runnel && e && e.target && e.target.tagName === 'SCRIPT') fail();
  }, true);
  // Still nothing after a long while: the same.
  setTimeout(fail, 20000);
})();
