// Reshapes a shop's order into the invoice lines a billing system wants, dropping the customer's
// personal data on the way: typed JSON in, typed JSON out.
import { fail } from "@tenon/pdk";
import { inputJson, outputJson } from "@tenon/pdk/json";

@json
class Customer {
  id: string = "";
  name: string = "";
  email: string = "";
}

@json
class Item {
  sku: string = "";
  title: string = "";
  qty: i32 = 0;
  @alias("price_cents")
  priceCents: i64 = 0;
}

@json
class Order {
  id: string = "";
  customer: Customer = new Customer();
  currency: string = "";
  items: Item[] = [];
}

@json
class InvoiceLine {
  sku: string = "";
  description: string = "";
  quantity: i32 = 0;
  unitPriceCents: i64 = 0;
  totalCents: i64 = 0;
}

@json
class Invoice {
  orderId: string = "";
  customerId: string = "";
  currency: string = "";
  lines: InvoiceLine[] = [];
  itemCount: i32 = 0;
  totalCents: i64 = 0;
}

export function reshape(): i32 {
  const order = inputJson<Order>();
  if (order.items.length == 0) return fail("order " + order.id + " has no items");
  const invoice = new Invoice();
  invoice.orderId = order.id;
  invoice.customerId = order.customer.id;
  invoice.currency = order.currency;
  for (let i = 0; i < order.items.length; i++) {
    const item = order.items[i];
    if (item.qty <= 0) return fail("item " + item.sku + " has quantity " + item.qty.toString());
    const line = new InvoiceLine();
    line.sku = item.sku;
    line.description = item.title;
    line.quantity = item.qty;
    line.unitPriceCents = item.priceCents;
    line.totalCents = i64(item.qty) * item.priceCents;
    invoice.lines.push(line);
    invoice.itemCount += item.qty;
    invoice.totalCents += line.totalCents;
  }
  outputJson(invoice);
  return 0;
}
