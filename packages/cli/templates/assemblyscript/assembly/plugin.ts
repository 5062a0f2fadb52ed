// A Tenon plug-in in AssemblyScript. Each exported `(): i32` function is callable by the host:
// it reads its input, writes its output, and returns 0 (or reports an error and returns 1).
import { config, fail, inputString, log, outputString } from "@tenon/pdk";
import { inputJson, outputJson } from "@tenon/pdk/json";

/** Text in, text out; the host may set the greeting in the plug-in's config. */
export function greet(): i32 {
  const name = inputString();
  if (name.length == 0) return fail("greet needs a name as input");
  const greeting = config.get("greeting");
  log.debug("greeting " + name);
  outputString((greeting == null ? "Hello" : greeting) + ", " + name + "!");
  return 0;
}

@json
class Line {
  sku: string = "";
  quantity: i32 = 0;
  unitPrice: f64 = 0;
}

@json
class Order {
  id: string = "";
  lines: Line[] = [];
}

@json
class Total {
  id: string = "";
  items: i32 = 0;
  total: f64 = 0;
}

/** Typed JSON in and out: an order's item count and total. */
export function total(): i32 {
  const order = inputJson<Order>();
  const result = new Total();
  result.id = order.id;
  for (let i = 0; i < order.lines.length; i++) {
    const line = order.lines[i];
    if (line.quantity < 0) return fail("line " + i.toString() + " has a negative quantity");
    result.items += line.quantity;
    result.total += f64(line.quantity) * line.unitPrice;
  }
  outputJson(result);
  return 0;
}
