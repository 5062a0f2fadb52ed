// The loyalty partner, v2: silver customers get 100 basis points more.
import { loyaltyDiscounts, Release } from "./loyalty";

const release = new Release();
release.silverBonusBasisPoints = 100;

export function discounts(): i32 {
  return loyaltyDiscounts(release);
}
