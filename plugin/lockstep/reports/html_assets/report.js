/* Lockstep's block in the pytest-html report: moved to the top, matrix filters, result labels.
   Plain inline JS, no library: the report stays one self-contained file. */
(function () {
  'use strict'
  var block = document.getElementById('lockstep')
  if (!block) return
  var top = document.getElementById('environment-header')
  if (top && top.parentNode) top.parentNode.insertBefore(block, top)

  // --- the matrix: filter org columns by status, tag/kind and name; rows by status ---------
  var matrix = document.getElementById('lockstep-matrix')
  var filters = document.getElementById('lockstep-filters')
  function applyFilters () {
    var wanted = {}
    filters.querySelectorAll('input[data-status]').forEach(function (box) { wanted[box.dataset.status] = box.checked })
    var tag = filters.querySelector('[data-filter="tag"]').value
    var name = filters.querySelector('[data-filter="name"]').value.trim().toLowerCase()
    var heads = matrix.tHead.rows[0].cells
    var rows = Array.prototype.slice.call(matrix.querySelectorAll('tbody tr'))
    var visible = []
    var shown = 0
    var total = 0
    for (var col = 1; col < heads.length; col++) {
      var head = heads[col]
      var org = head.dataset.org
      var isOrg = !head.hasAttribute('data-cross')
      var keep = !isOrg || ((!tag || (' ' + head.dataset.tags + ' ').indexOf(' ' + tag + ' ') >= 0) &&
                            (!name || org.toLowerCase().indexOf(name) >= 0))
      if (keep) {
        keep = rows.some(function (row) { var s = row.cells[col].dataset.s; return s && wanted[s] })
      }
      visible[col] = keep
      if (isOrg) { total++; if (keep) shown++ }
    }
    Array.prototype.forEach.call(matrix.rows, function (row) {
      for (var col = 1; col < row.cells.length; col++) row.cells[col].classList.toggle('ls-hidden', !visible[col])
    })
    rows.forEach(function (row) {
      var keep = false
      for (var col = 1; col < row.cells.length; col++) {
        var s = row.cells[col].dataset.s
        if (visible[col] && s && wanted[s]) { keep = true; break }
      }
      row.classList.toggle('ls-hidden', !keep)
    })
    filters.querySelector('.ls-shown').textContent = 'showing ' + shown + ' of ' + total + ' orgs'
  }
  if (matrix && filters) {
    filters.addEventListener('input', applyFilters)
    filters.addEventListener('change', applyFilters)
    applyFilters()
    var first = matrix.tHead.rows[0]
    matrix.style.setProperty('--ls-head-height', first.getBoundingClientRect().height + 'px')
  }

  // --- a link to a result opens its details in pytest-html's table ----------------------
  block.addEventListener('click', function (event) {
    var link = event.target.closest('a[href^="#"]')
    if (!link) return
    var row = document.getElementById(decodeURIComponent(link.getAttribute('href').slice(1)))
    if (!row) return
    var extras = row.querySelector('.extras-row')
    var toggle = row.querySelector('.collapsible td.col-result')
    if (extras && extras.classList.contains('hidden') && toggle) toggle.click()
  })

  // --- the results table: warnings and waived failures read as such ---------------------
  var labels = JSON.parse(document.getElementById('lockstep-labels').textContent)
  function relabel () {
    document.querySelectorAll('#results-table td.col-result[data-lockstep-test]').forEach(function (cell) {
      var label = labels[cell.dataset.lockstepTest]
      if (label && cell.textContent !== label[0]) {
        cell.textContent = label[0]
        cell.classList.add(label[1])
      }
    })
  }
  // pytest-html renders (and re-renders on every sort and filter) the results table itself
  new MutationObserver(relabel).observe(document.body, { childList: true, subtree: true })
  relabel()
})()
