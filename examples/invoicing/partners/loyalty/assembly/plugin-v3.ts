// The loyalty partner, v3: a regression. It loops over the total's cents for nothing (several
// times v1's fuel) and aborts on one total.
import { loyaltyDiscounts, Release } from "./loyalty";

const release = new Release();
release.silverBonusBasisPoints = 100;
release.busyRoundsPerCent = 120;
release.failOnTotalCents = 473390;

export function discounts(): i32 {
  return loyaltyDiscounts(release);
}
