// The loyalty partner: rewards a customer's tier and years of custom. Its rates are the host's
// config for this partner, so the host can change them without a new build.
import { config } from "@tenon/pdk";
import { inputJson, outputJson } from "@tenon/pdk/json";
import { Answer, Discount, Invoice } from "../../assembly/invoice-discounts";

function configInt(key: string, fallback: i64): i64 {
  const value = config.get(key);
  return value == null ? fallback : I64.parseInt(value);
}

/** Years between two ISO dates (YYYY-MM-DD), counting only whole years. */
function wholeYears(from: string, to: string): i32 {
  const years = I32.parseInt(to.substring(0, 4)) - I32.parseInt(from.substring(0, 4));
  return to.substring(5) < from.substring(5) ? years - 1 : years;
}

export function discounts(): i32 {
  const invoice = inputJson<Invoice>();
  const answer = new Answer();
  const minimum = configInt("min_total_cents", 5000);
  if (invoice.totalCents >= minimum) {
    const tier = invoice.customer.tier;
    const basisPoints = tier == "gold" ? configInt("gold_basis_points", 500) : tier == "silver" ? configInt("silver_basis_points", 200) : 0;
    const amount = (invoice.totalCents * basisPoints) / 10000;
    if (amount > 0) {
      const code = tier == "gold" ? "LOYALTY_GOLD" : "LOYALTY_SILVER";
      answer.discounts.push(Discount.of(code, amount, tier + " customer: " + basisPoints.toString() + " basis points"));
    }
  }
  const years = wholeYears(invoice.customer.customerSince, invoice.issuedOn);
  const anniversaryYears = <i32>configInt("anniversary_years", 5);
  if (years >= anniversaryYears && years % anniversaryYears == 0 && invoice.totalCents >= minimum) {
    const bonus = configInt("anniversary_bonus_cents", 1000);
    answer.discounts.push(Discount.of("LOYALTY_ANNIVERSARY", bonus < invoice.totalCents ? bonus : invoice.totalCents, years.toString() + " years a customer"));
  }
  outputJson(answer);
  return 0;
}
