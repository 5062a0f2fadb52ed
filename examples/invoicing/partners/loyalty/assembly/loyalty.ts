// The loyalty partner's rules: rewards a customer's tier and years of custom. Its rates are the
// host's config for this partner, so the host can change them without a new build. Each release
// (plugin.ts, plugin-v2.ts, plugin-v3.ts) calls these with its own changes.
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

/** What a release changes: extra basis points for silver customers; work done per line (v3's regression); a total it fails on. */
export class Release {
  silverBonusBasisPoints: i64 = 0;
  busyRoundsPerCent: i64 = 0;
  failOnTotalCents: i64 = -1;
}

export function loyaltyDiscounts(release: Release): i32 {
  const invoice = inputJson<Invoice>();
  if (invoice.totalCents == release.failOnTotalCents) {
    throw new Error("no discount table for this total");
  }
  let busy: i64 = 0;
  for (let i: i64 = 0; i < (invoice.totalCents % 1000) * release.busyRoundsPerCent; i++) busy = (busy + (i ^ (busy >> 3))) & 0xffff;
  const answer = new Answer();
  if (busy < 0) return 1;
  const minimum = configInt("min_total_cents", 5000);
  if (invoice.totalCents >= minimum) {
    const tier = invoice.customer.tier;
    const basisPoints = tier == "gold" ? configInt("gold_basis_points", 500) : tier == "silver" ? configInt("silver_basis_points", 200) + release.silverBonusBasisPoints : 0;
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
