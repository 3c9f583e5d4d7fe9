'use strict';
/**
 * The one cleanup path of a benchmark run. Whatever must not outlive the run — processes,
 * databases, Redis keys, the copy of dist/ — is registered here as it is created, and `runAll()`
 * undoes it all in reverse order, once, however the run ends: at the end, on an error, on
 * SIGINT/SIGTERM/SIGHUP. A scope (a stack of processes some figures share) is undone early with
 * `close()`, and then no more at the end.
 */

/** @typedef {{ name: string, undo: () => unknown }} Task */

/** @type {Task[]} */
const tasks = [];
/** @type {Promise<void> | null} */
let ran = null;

/**
 * Registers `undo`; the handle undoes it now (once) and unregisters it.
 * @param {string} name @param {() => unknown} undo
 */
function defer(name, undo) {
  /** @type {Task} */
  const task = { name, undo };
  tasks.push(task);
  return {
    async close() {
      const i = tasks.indexOf(task);
      if (i < 0) return;
      tasks.splice(i, 1);
      await settle(task);
    },
  };
}

/** Runs one task; a failure is logged, never thrown (the rest must still run). @param {Task} task */
async function settle(task) {
  try {
    await task.undo();
  } catch (error) {
    process.stderr.write(`cleanup of ${task.name} failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/**
 * A group of tasks undone together (a figure's stack): `defer` inside it, `close()` to undo it early.
 * @param {string} name
 */
function scope(name) {
  /** @type {Task[]} */
  const own = [];
  const handle = defer(name, async () => {
    for (const task of own.splice(0).reverse()) await settle(task);
  });
  return {
    /** @param {string} what @param {() => unknown} undo */
    defer(what, undo) {
      own.push({ name: `${name}: ${what}`, undo });
    },
    close: () => handle.close(),
  };
}

/** Undoes everything still registered, newest first; the same promise on every call. */
function runAll() {
  ran ??= (async () => {
    while (tasks.length) await settle(/** @type {Task} */ (tasks.pop()));
  })();
  return ran;
}

module.exports = { defer, scope, runAll };
