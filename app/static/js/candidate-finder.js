/*
 * Interview Room: the type-ahead candidate finder of the assistant's violation form
 * (templates/assistant/_violation_form.html).
 *
 * htmx asks the finder for the options as one types ([data-finder-input] hx-get) and puts them
 * into [data-finder-options]; this file makes them a listbox one can use from the keyboard:
 * ArrowDown / ArrowUp move through the options, Enter chooses (and does not submit the form),
 * Escape closes the list; a click chooses too. Choosing writes the candidate's id into
 * [data-finder-id] and the option's label into the text field; typing again clears the id, so
 * that a stale choice is never posted. Without this file the form posts what was typed.
 *
 * Listeners sit on the document: the form is swapped whole after every post.
 * Plain ES2017, no globals, no inline script.
 */
(function () {
  'use strict';

  function finderOf(el) {
    return el && el.closest ? el.closest('[data-candidate-finder]') : null;
  }

  function parts(finder) {
    return {
      input: finder.querySelector('[data-finder-input]'),
      id: finder.querySelector('[data-finder-id]'),
      list: finder.querySelector('[data-finder-options]')
    };
  }

  function options(list) {
    return Array.prototype.slice.call(list.querySelectorAll('[role="option"]'));
  }

  function setOpen(p, open) {
    p.input.setAttribute('aria-expanded', open ? 'true' : 'false');
    p.list.hidden = !open;
  }

  function highlight(p, index) {
    const all = options(p.list);
    all.forEach(function (option, i) {
      option.setAttribute('aria-selected', i === index ? 'true' : 'false');
      option.classList.toggle('active', i === index);
    });
    if (index >= 0 && all[index]) {
      p.input.setAttribute('aria-activedescendant', all[index].id);
      all[index].scrollIntoView({block: 'nearest'});
    } else {
      p.input.removeAttribute('aria-activedescendant');
    }
  }

  function activeIndex(p) {
    return options(p.list).findIndex(function (option) {
      return option.getAttribute('aria-selected') === 'true';
    });
  }

  function choose(p, option) {
    p.id.value = option.getAttribute('data-candidate-id') || '';
    p.input.value = option.getAttribute('data-label') || '';
    p.list.innerHTML = '';
    highlight(p, -1);
    setOpen(p, false);
    p.input.dispatchEvent(new CustomEvent('ir:candidate-chosen', {bubbles: true}));
  }

  document.addEventListener('input', function (event) {
    const finder = finderOf(event.target);
    if (finder && event.target.hasAttribute('data-finder-input')) {
      parts(finder).id.value = '';
    }
  });

  document.addEventListener('keydown', function (event) {
    const finder = finderOf(event.target);
    if (!finder || !event.target.hasAttribute('data-finder-input')) {
      return;
    }
    const p = parts(finder);
    const all = options(p.list);
    const index = activeIndex(p);
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (!all.length) {
        return;
      }
      event.preventDefault();
      setOpen(p, true);
      const step = event.key === 'ArrowDown' ? 1 : -1;
      highlight(p, (index + step + all.length) % all.length);
    } else if (event.key === 'Enter') {
      const pick = index >= 0 ? all[index] : (all.length === 1 ? all[0] : null);
      if (pick && !p.list.hidden) {
        event.preventDefault();
        choose(p, pick);
      }
    } else if (event.key === 'Escape') {
      if (!p.list.hidden && all.length) {
        event.preventDefault();
        setOpen(p, false);
      }
    }
  });

  document.addEventListener('click', function (event) {
    const option = event.target.closest ? event.target.closest('[data-candidate-finder] [role="option"]') : null;
    if (option) {
      choose(parts(finderOf(option)), option);
    }
  });

  // New options arrived: show them, nothing highlighted yet.
  document.addEventListener('htmx:afterSwap', function (event) {
    const list = event.target;
    if (!list || !list.hasAttribute || !list.hasAttribute('data-finder-options')) {
      return;
    }
    const p = parts(finderOf(list));
    highlight(p, -1);
    setOpen(p, list.children.length > 0);
    if (list.children.length > 0) {
      // The form sits low in the assistant's side column: bring the options up into view there,
      // field included, rather than opening them below the fold.
      finderOf(list).scrollIntoView({block: 'nearest'});
    }
  });
}());
