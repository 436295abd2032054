import { Command } from 'commander';
import { SluiceError } from '../errors.ts';
import { demoCommand } from './demo.ts';
import { kafkaCommand } from './kafka-command.ts';

const program = new Command('sluice')
  .description('Sluice: stream processing on Kafka for Node.js')
  .showHelpAfterError()
  .addCommand(kafkaCommand())
  .addCommand(demoCommand());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof SluiceError) {
    process.stderr.write(`sluice: ${err.message} [${err.code}]\n`);
  } else {
    process.stderr.write(`sluice: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exitCode = 1;
}
