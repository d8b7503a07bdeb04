// hopthu webmail: small enhancements only. Every screen works without this file.
'use strict';
(function () {
  // New mail without reloading: the list of the folder on screen is re-read when the
  // server says a mailbox of ours changed (server-sent events from /events).
  function refresh() {
    fetch(location.href, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, 'text/html');
        ['list', 'folders'].forEach(function (id) {
          var now = document.getElementById(id), fresh = doc.getElementById(id);
          if (now && fresh) now.replaceWith(fresh);
        });
      });
  }
  function live() {
    var main = document.getElementById('main');
    var folders = document.getElementById('folders');
    if (!folders || !window.EventSource) return;
    var es = new EventSource('/events');
    window.addEventListener('pagehide', function () { es.close(); });
    var timer = null;
    es.addEventListener('mail', function (e) {
      if (!main || main.dataset.live !== '1') return;
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    });
  }
  // Address autocomplete from the directory: fills the field's datalist with the typed text
  // and its last address replaced by each suggestion (keyboard-friendly, native UI).
  function autocomplete(input) {
    var list = document.getElementById(input.getAttribute('list'));
    var pending = null;
    input.addEventListener('input', function () {
      var value = input.value;
      var cut = Math.max(value.lastIndexOf(','), value.lastIndexOf(';'));
      var head = cut >= 0 ? value.slice(0, cut + 1) + ' ' : '';
      var term = value.slice(cut + 1).trim();
      clearTimeout(pending);
      if (term.length < 2 || term.indexOf('@') >= 0) return;
      pending = setTimeout(function () {
        fetch('/address-book?q=' + encodeURIComponent(term), { credentials: 'same-origin' })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            list.textContent = '';
            items.forEach(function (it) {
              var o = document.createElement('option');
              o.value = head + it.name + ' <' + it.address + '>, ';
              o.label = it.detail ? it.name + ' — ' + it.detail : it.name;
              list.appendChild(o);
            });
          });
      }, 150);
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    live();
    document.querySelectorAll('input[data-autocomplete]').forEach(autocomplete);
  });
})();
