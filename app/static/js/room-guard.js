/*
 * Interview Room: the chief's page keeps the interview call to those who belong (issue 16).
 *
 * A Jitsi token cannot be revoked, and the panel has one interview room: a finished candidate's
 * token may still let her in while the next candidate is interviewed. The server lists who may
 * be in the room right now (app/day/room_roster.py, GET data-roster-url: {room, names, prefixes});
 * this file, on the chief's console only ([data-room-guard] is rendered for the chief), checks
 * every participant on participantJoined and every data-refresh-seconds over the whole list,
 * and anyone not on a freshly fetched roster is removed with
 * api.executeCommand('kickParticipant', id), without a click, listed in [data-room-guard-log]
 * and reported to data-removed-url (audited as call.participant_removed).
 *
 * Fail safe the other way round from the rest room: when the roster cannot be fetched nobody is
 * removed (a network hiccup must not throw the candidate out of her interview).
 * Include it in the page head (defer): it learns the call's API from jitsi-embed.js's
 * `ir:jitsi-ready` event. Plain ES2017, no globals, no inline script.
 */
(function () {
  'use strict';

  function csrfToken() {
    try {
      const headers = JSON.parse(document.body.getAttribute('hx-headers') || '{}');
      return headers['X-CSRFToken'] || '';
    } catch (err) {
      return '';
    }
  }

  // As app/day/room_roster.py `_clean`: surrounding and repeated white space do not count.
  function clean(name) {
    return String(name || '').split(/\s+/).filter(Boolean).join(' ');
  }

  function allows(roster, displayName) {
    const name = clean(displayName);
    if (!name) {
      return false;
    }
    if (roster.names.indexOf(name) !== -1) {
      return true;
    }
    return roster.prefixes.some(function (prefix) {
      return prefix.trim() && name.indexOf(prefix) === 0;
    });
  }

  async function fetchRoster(guard) {
    const response = await fetch(guard.getAttribute('data-roster-url'), {
      credentials: 'same-origin',
      headers: {Accept: 'application/json'}
    });
    if (!response.ok) {
      throw new Error('roster ' + response.status);
    }
    const data = await response.json();
    return {
      names: Array.isArray(data.names) ? data.names.map(clean) : [],
      prefixes: Array.isArray(data.prefixes) ? data.prefixes.map(String) : []
    };
  }

  function participantsOf(api) {
    let list;
    try {
      list = api.getParticipantsInfo ? api.getParticipantsInfo() || [] : [];
    } catch (err) {
      list = [];
    }
    return list.map(function (p) {
      return {id: p.participantId || p.id, displayName: p.displayName || p.formattedDisplayName};
    });
  }

  function log(guard, text) {
    const list = guard.querySelector('[data-room-guard-log]');
    if (!list) {
      return;
    }
    const item = document.createElement('li');
    const time = new Date().toLocaleTimeString('zh-CN', {hour12: false, timeZone: 'Asia/Shanghai'});
    item.textContent = time + ' ' + text;
    list.insertBefore(item, list.firstChild);
  }

  function remove(state, person) {
    state.removed.add(person.id);
    try {
      state.api.executeCommand('kickParticipant', person.id);
    } catch (err) {
      state.removed.delete(person.id); // try again at the next check
      return;
    }
    const name = clean(person.displayName);
    // The words come from the page (data-removed-text, data-unnamed), in the reader's language.
    const shown = name || state.guard.getAttribute('data-unnamed') || '?';
    log(state.guard, (state.guard.getAttribute('data-removed-text') || '{name}').replace('{name}', shown));
    fetch(state.guard.getAttribute('data-removed-url'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrfToken()},
      body: JSON.stringify({participant_id: String(person.id), display_name: name})
    }).catch(function () { /* the removal is done; only its audit line is lost */ });
  }

  // Each check asks the server afresh: a candidate called a second ago is on it by now.
  async function check(state, people) {
    const strangers = people.filter(function (p) {
      return p.id && p.id !== state.localId && !state.removed.has(p.id);
    });
    if (!strangers.length) {
      return;
    }
    let roster;
    try {
      roster = await fetchRoster(state.guard);
    } catch (err) {
      return; // nobody is removed on a guess
    }
    strangers.forEach(function (p) {
      if (!allows(roster, p.displayName) && !state.removed.has(p.id)) {
        remove(state, p);
      }
    });
  }

  document.addEventListener('ir:jitsi-ready', function (event) {
    const detail = event.detail || {};
    const guard = document.querySelector('[data-room-guard]');
    if (!guard || detail.role !== 'chief' || detail.kind !== 'interview' || !detail.api) {
      return;
    }
    const api = detail.api;
    const state = {api: api, guard: guard, localId: null, removed: new Set(), timer: null};
    const seconds = Number(guard.getAttribute('data-refresh-seconds')) || 10;
    const sweep = function () { check(state, participantsOf(api)); };
    api.addListener('videoConferenceJoined', function (e) {
      state.localId = e && e.id ? e.id : null;
      sweep();
      clearInterval(state.timer);
      state.timer = setInterval(sweep, seconds * 1000);
    });
    api.addListener('videoConferenceLeft', function () { clearInterval(state.timer); });
    api.addListener('participantJoined', function (e) {
      check(state, [{id: e && e.id, displayName: e && e.displayName}]);
    });
    api.addListener('displayNameChange', function (e) {
      check(state, [{id: e && e.id, displayName: e && (e.displayname || e.displayName)}]);
    });
    api.addListener('participantLeft', function (e) {
      if (e && e.id) {
        state.removed.delete(e.id); // a new join with the same id is checked again
      }
    });
  });
}());
