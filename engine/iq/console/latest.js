// Answers drawn in the order they were asked for. A view can ask again before an answer comes
// (a refresh after an action, a second click, a page turned twice); answers can come back out
// of order, and an older one must never replace what a newer one drew.

/**
 * Returns `show(fetch, draw, fail)` for `slot`: it marks the slot busy, awaits `fetch()`, then
 * calls `draw(answer)` (or `fail(error)` when fetching or drawing throws) only if no later call
 * of `show` for the same slot has started meanwhile; the slot stays busy until the latest ends.
 */
export function latestOnly(slot) {
  let latest = 0;
  return async (fetch, draw, fail) => {
    const ticket = ++latest;
    slot.setAttribute('aria-busy', 'true');
    let answer;
    let failure;
    try {
      answer = await fetch();
    } catch (error) {
      failure = { error };
    }
    if (ticket !== latest) return;
    slot.removeAttribute('aria-busy');
    try {
      if (failure) fail(failure.error);
      else draw(answer);
    } catch (error) {
      fail(error);
    }
  };
}
