/**
 * A tiny script for tests/cli_test.ts: it reads its command line with
 * lib/cli.ts and prints what it understood as JSON, or fails as told.
 *
 * @module
 */

import { parseAddresses } from "../../lib/address.ts";
import { endOnMissingPermission, fail, parseCommandLine, parseNumber } from "../../lib/cli.ts";

endOnMissingPermission();
const settings = parseCommandLine(Deno.args, {
  usage: "[options] [HOST:]PORT ...",
  description: "Prints its settings as JSON.\n\n  deno run tests/helpers/cli_fixture.ts 10000",
  options: {
    delay: { metavar: "S", help: "a delay", default: "0.1" },
    name: { metavar: "NAME", help: "a name" },
    fail: { metavar: "CODE", help: "fail with this exit status" },
  },
}, ({ values, positionals }) => {
  return {
    delay: parseNumber(values.delay, "--delay", { min: 0 }),
    name: values.name ?? null,
    fail: values.fail === undefined ? null : Number(values.fail),
    addresses: parseAddresses(positionals),
  };
});
if (settings.fail !== null) fail("it went wrong", settings.fail);
console.log(JSON.stringify(settings));
