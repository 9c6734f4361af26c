/** The library names option fields in its errors; the CLI shows the flags. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../src/cli/errors.js";
import { asUserErrors, userMessage } from "../../src/cli/user-errors.js";
import { OptionError } from "../../src/util/errors.js";

test("an option error names the field in the library and the flag in the CLI", async () => {
  const err = new OptionError("confThres", "1.5 is outside [0, 1]");
  assert.equal(err.message, "confThres 1.5 is outside [0, 1]");
  assert.equal(userMessage(err), "--conf-thres 1.5 is outside [0, 1]");
  assert.equal(userMessage(new OptionError("someField", "is wrong")), "someField is wrong");
  await assert.rejects(
    asUserErrors(() => {
      throw new OptionError("imgsz", "3 must be a positive integer");
    }),
    (e: unknown) => e instanceof UserError && e.message === "--imgsz 3 must be a positive integer",
  );
});
