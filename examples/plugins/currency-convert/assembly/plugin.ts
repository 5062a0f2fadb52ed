// Converts an amount with an exchange rate the host looks up: the plug-in asks, the host answers
// from its own data through a host function it chose to grant.
import { fail, Memory } from "@tenon/pdk";
import { inputJson, outputJson } from "@tenon/pdk/json";

// Host function: takes a block holding "EUR:USD", returns a block holding the rate as text, or 0
// when the host knows no such rate. The caller frees both blocks.
@external("extism:host/user", "exchange_rate")
declare function exchange_rate(pair: u64): u64;

@json
class Request {
  amountCents: i64 = 0;
  from: string = "";
  to: string = "";
}

@json
class Converted {
  amountCents: i64 = 0;
  currency: string = "";
  rate: f64 = 0;
}

export function convert(): i32 {
  const request = inputJson<Request>();
  const pair = Memory.fromString(request.from + ":" + request.to);
  const answer = exchange_rate(pair.offset);
  pair.free();
  if (answer == 0) return fail("no exchange rate from " + request.from + " to " + request.to);
  const block = Memory.find(answer);
  const rate = parseFloat(block.toString());
  block.free();
  const result = new Converted();
  result.currency = request.to;
  result.rate = rate;
  result.amountCents = i64(Math.round(f64(request.amountCents) * rate));
  outputJson(result);
  return 0;
}
