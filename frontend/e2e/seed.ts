/** The catalog every e2e run starts with, created through the API as an administrator. */
import { call, type Written } from "./api";

export interface SeedProduct {
  sku: string;
  name: string;
  description: string;
  category: string;
  price: { amount: number; currency: string };
  stock: number;
}

const eur = (amount: number) => ({ amount, currency: "EUR" });

export const SEED_PRODUCTS: SeedProduct[] = [
  { sku: "KIT-MUG-01", name: "Stoneware Mug", category: "Kitchen", price: eur(1400), stock: 40,
    description: "A hand-glazed 350 ml stoneware mug with a thick rim that keeps coffee warm. Dishwasher safe." },
  { sku: "KIT-SKL-26", name: "Cast Iron Skillet", category: "Kitchen", price: eur(4990), stock: 12,
    description: "Pre-seasoned 26 cm skillet for searing, baking and everything in between. Lasts a lifetime." },
  { sku: "KIT-SPN-03", name: "Olive Wood Spoon Set", category: "Kitchen", price: eur(1950), stock: 30,
    description: "Three spoons carved from a single piece of olive wood each. Gentle on pans." },
  { sku: "KIT-KTL-10", name: "Pour-Over Coffee Kettle", category: "Kitchen", price: eur(5900), stock: 3,
    description: "A gooseneck kettle for a slow, even pour. 1 litre, works on every hob." },
  { sku: "APP-SHT-LIN", name: "Linen Shirt", category: "Apparel", price: eur(6900), stock: 20,
    description: "A relaxed shirt in washed European linen. Breathes in summer, layers in autumn." },
  { sku: "APP-BNE-MER", name: "Merino Wool Beanie", category: "Apparel", price: eur(2900), stock: 25,
    description: "Soft, itch-free merino in a classic rib knit. One size." },
  { sku: "APP-TOT-CNV", name: "Canvas Tote Bag", category: "Apparel", price: eur(1800), stock: 0,
    description: "Heavy 12 oz canvas with an inside pocket. Back in stock soon." },
  { sku: "HOM-THR-WOL", name: "Wool Throw Blanket", category: "Home", price: eur(8900), stock: 8,
    description: "A 130 × 170 cm throw woven from undyed wool in a herringbone pattern." },
  { sku: "HOM-LMP-CER", name: "Ceramic Table Lamp", category: "Home", price: eur(12000), stock: 5,
    description: "A matte ceramic base with a linen shade and a warm dimmable bulb included." },
  { sku: "HOM-CDL-SOY", name: "Scented Soy Candle", category: "Home", price: eur(2200), stock: 50,
    description: "Fig and cedar, hand-poured soy wax, about 45 hours of burn time." },
  { sku: "STA-NTB-DOT", name: "Dot Grid Notebook", category: "Stationery", price: eur(1250), stock: 100,
    description: "A5, 192 numbered pages of 100 g paper that fountain pens love." },
  { sku: "STA-PEN-BRS", name: "Brass Fountain Pen", category: "Stationery", price: eur(4500), stock: 15,
    description: "A pocket fountain pen in solid brass that patinates with use. Fine nib." },
  { sku: "OUT-BTL-750", name: "Insulated Water Bottle", category: "Outdoors", price: eur(3200), stock: 60,
    description: "750 ml double-walled steel: cold for 24 hours, hot for 12." },
  { sku: "OUT-DPK-20L", name: "Trail Daypack 20L", category: "Outdoors", price: eur(7900), stock: 10,
    description: "A light, water-resistant daypack with a padded back and a hip belt." },
];

/** Creates the products (a 409 for an existing SKU is fine) and returns the last write's position. */
export async function seedCatalog(token: string): Promise<string | undefined> {
  let position: string | undefined;
  for (const product of SEED_PRODUCTS) {
    try {
      const written = await call<Written>("POST", "/products", product, token);
      position = written.position;
    } catch (e) {
      if (!String(e).includes("→ 409")) throw e;
    }
  }
  return position;
}
