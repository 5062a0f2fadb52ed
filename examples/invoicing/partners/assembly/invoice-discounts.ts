// The `invoice.discounts` extension point in AssemblyScript types: the invoice fields these
// partners read (json-as skips the rest), and the answer they give.

@json
export class Customer {
  id: string = "";
  tier: string = "";
  country: string = "";
  @alias("customer_since")
  customerSince: string = "";
}

@json
export class Invoice {
  id: string = "";
  @alias("issued_on")
  issuedOn: string = "";
  currency: string = "";
  customer: Customer = new Customer();
  @alias("total_cents")
  totalCents: i64 = 0;
}

@json
export class Discount {
  code: string = "";
  @alias("amount_cents")
  amountCents: i64 = 0;
  reason: string = "";

  static of(code: string, amountCents: i64, reason: string): Discount {
    const discount = new Discount();
    discount.code = code;
    discount.amountCents = amountCents;
    discount.reason = reason;
    return discount;
  }
}

@json
export class Answer {
  discounts: Discount[] = [];
}
