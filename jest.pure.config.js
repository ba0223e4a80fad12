/** Pure unit tests only (*.spec.ts): no database, no Redis. Handy while editing a machine or the calendar. */
const base = require('./jest.config.js');
module.exports = {
  ...base,
  testRegex: '.*\\.spec\\.ts$',
  globalSetup: undefined,
  globalTeardown: undefined,
};
