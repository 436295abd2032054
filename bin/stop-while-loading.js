// Imported first by bin/sluice.js, so that it runs before anything slow loads: a SIGTERM or
// SIGINT while the command still loads ends the process at once with status 0 (nothing has
// started, so nothing is half done), where Node's default would end it by the signal. The
// command takes signals over once its action begins (`loaded`).
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/** Ends this handling: the command's own begins. */
export function loaded() {
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
}
