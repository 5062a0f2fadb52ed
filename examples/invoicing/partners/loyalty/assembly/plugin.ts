// The loyalty partner, v1: its rules as they are (see loyalty.ts).
import { loyaltyDiscounts, Release } from "./loyalty";

export function discounts(): i32 {
  return loyaltyDiscounts(new Release());
}
