// Greets with the host's configured greeting and counts its calls in a var, which lives as long
// as the plug-in instance: config is what the host decides, vars are what the plug-in remembers.
import { config, fail, inputString, log, outputString, vars } from "@tenon/pdk";

export function greet(): i32 {
  const name = inputString();
  if (name.length == 0) return fail("greet needs a name as input");
  const greeting = config.get("greeting");
  const count = vars.getI64("calls") + 1;
  vars.setI64("calls", count);
  vars.setString("last", name);
  log.info("greeting #" + count.toString() + " for " + name);
  outputString((greeting == null ? "Hello" : greeting) + ", " + name + "! (call " + count.toString() + ")");
  return 0;
}

/** Who was greeted last, or an error before the first greeting. */
export function last(): i32 {
  const name = vars.getString("last");
  if (name == null) return fail("nobody has been greeted yet");
  outputString(name);
  return 0;
}

/** Forget the count and the last name. */
export function reset(): i32 {
  vars.remove("calls");
  vars.remove("last");
  return 0;
}
