// Suites that change the shared network for good (a new member organisation changes
// the endorsement majority) run after every other suite.
const Sequencer = require('@jest/test-sequencer').default;

const runLast = /network-add-org\.e2e\.test\.js$/;

class E2eSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return [...sorted.filter((test) => !runLast.test(test.path)), ...sorted.filter((test) => runLast.test(test.path))];
  }
}

module.exports = E2eSequencer;
