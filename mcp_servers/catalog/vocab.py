"""The fashion vocabulary shared by the seed generator, the image renderer and the search filters.

One place defines which colours, sizes and subcategories exist, so the seeded catalog, the filter
normalisation ("Ivory" -> white, "medium" -> M, "dress" -> dresses) and the drawn cut-outs never
disagree. Data only: no I/O, no randomness.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- colours -----------------------------------------------------------------------------------------
# (shade used in names, plain colour family stored in `colours`, RGB used to draw the cut-out)
SHADES: tuple[tuple[str, str, tuple[int, int, int]], ...] = (
    ("Black", "black", (28, 28, 31)),
    ("Jet", "black", (18, 18, 20)),
    ("Charcoal", "grey", (62, 64, 68)),
    ("Grey", "grey", (138, 139, 144)),
    ("Heather Grey", "grey", (170, 170, 172)),
    ("White", "white", (246, 246, 243)),
    ("Ivory", "white", (250, 245, 230)),
    ("Cream", "white", (242, 235, 212)),
    ("Beige", "beige", (222, 205, 176)),
    ("Sand", "beige", (212, 192, 158)),
    ("Khaki", "beige", (189, 176, 130)),
    ("Camel", "brown", (193, 154, 107)),
    ("Tan", "brown", (176, 132, 88)),
    ("Chocolate", "brown", (92, 58, 38)),
    ("Navy", "navy", (27, 37, 78)),
    ("Midnight", "navy", (20, 26, 58)),
    ("Blue", "blue", (44, 92, 182)),
    ("Cobalt", "blue", (0, 71, 171)),
    ("Sky Blue", "blue", (135, 188, 228)),
    ("Teal", "blue", (0, 122, 128)),
    ("Green", "green", (44, 128, 72)),
    ("Olive", "green", (108, 112, 52)),
    ("Sage", "green", (158, 174, 140)),
    ("Emerald", "green", (18, 136, 88)),
    ("Red", "red", (204, 32, 42)),
    ("Crimson", "red", (172, 20, 52)),
    ("Burgundy", "red", (112, 22, 42)),
    ("Pink", "pink", (240, 152, 182)),
    ("Blush", "pink", (234, 190, 188)),
    ("Fuchsia", "pink", (208, 42, 140)),
    ("Lilac", "purple", (190, 160, 212)),
    ("Purple", "purple", (108, 52, 140)),
    ("Yellow", "yellow", (246, 210, 62)),
    ("Mustard", "yellow", (208, 160, 40)),
    ("Orange", "orange", (240, 130, 42)),
    ("Rust", "orange", (178, 80, 40)),
    ("Gold", "gold", (212, 175, 55)),
    ("Silver", "silver", (192, 193, 200)),
)
SHADE_BY_NAME = {s[0].lower(): s for s in SHADES}
COLOUR_FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(s[1] for s in SHADES))
SHADES_BY_FAMILY: dict[str, list[str]] = {
    fam: [s[0] for s in SHADES if s[1] == fam] for fam in COLOUR_FAMILIES
}
FAMILY_RGB: dict[str, tuple[int, int, int]] = {}
for _shade, _family, _rgb in SHADES:
    FAMILY_RGB.setdefault(_family, _rgb)

# Extra spellings shoppers (and models) use for the plain families.
COLOUR_ALIASES = {
    "gray": "grey", "charcoal grey": "grey", "off white": "white", "off-white": "white",
    "navy blue": "navy", "dark blue": "navy", "light blue": "blue", "baby blue": "blue",
    "maroon": "red", "wine": "red", "scarlet": "red", "rose": "pink", "hot pink": "pink",
    "violet": "purple", "lavender": "purple", "mauve": "purple", "brown": "brown", "taupe": "beige",
    "nude": "beige", "stone": "beige", "tortoiseshell": "brown", "forest green": "green",
    "mint": "green", "lime": "green", "khaki green": "green", "terracotta": "orange", "coral": "orange",
    "peach": "orange", "golden": "gold", "rose gold": "gold", "metallic": "silver",
}

# Apparel colour rotation: the common families appear more often, as in a real shop.
APPAREL_FAMILY_CYCLE: tuple[str, ...] = (
    "black", "white", "navy", "blue", "red", "beige", "green", "grey", "pink", "brown",
    "black", "white", "purple", "yellow", "orange", "navy", "red", "blue", "beige", "grey",
)
METAL_FAMILY_CYCLE: tuple[str, ...] = ("gold", "silver", "gold", "silver", "black", "pink")

# --- sizes -------------------------------------------------------------------------------------------
APPAREL_SIZES: tuple[str, ...] = ("XS", "S", "M", "L", "XL", "XXL")
ONE_SIZE = "One Size"
SIZE_ALIASES = {
    "extra small": "XS", "x-small": "XS", "xsmall": "XS", "small": "S", "medium": "M", "med": "M",
    "large": "L", "extra large": "XL", "x-large": "XL", "xlarge": "XL", "2xl": "XXL", "xx-large": "XXL",
    "xxlarge": "XXL", "onesize": ONE_SIZE, "one size": ONE_SIZE, "os": ONE_SIZE, "one-size": ONE_SIZE,
}

# --- occasions and seasons ---------------------------------------------------------------------------
OCCASIONS: tuple[str, ...] = (
    "wedding", "office", "beach", "party", "casual", "sport", "date night", "interview", "travel",
)
SEASONS: tuple[str, ...] = ("spring", "summer", "autumn", "winter")

# Seasons a material suits (the seeder intersects these with the subcategory's own seasons).
MATERIAL_SEASONS: dict[str, tuple[str, ...]] = {
    "linen": ("spring", "summer"), "seersucker": ("spring", "summer"), "chiffon": ("spring", "summer"),
    "straw": ("spring", "summer"), "raffia": ("spring", "summer"), "canvas": ("spring", "summer"),
    "wool": ("autumn", "winter"), "cashmere": ("autumn", "winter"), "merino wool": ("autumn", "winter"),
    "tweed": ("autumn", "winter"), "corduroy": ("autumn", "winter"), "velvet": ("autumn", "winter"),
    "shearling": ("winter",), "down": ("winter",), "flannel": ("autumn", "winter"),
    "mohair": ("autumn", "winter"), "fleece": ("autumn", "winter"),
}


@dataclass(frozen=True)
class Subcategory:
    """How one kind of product looks, sells and is drawn."""

    name: str  # plural, lower case: what the `subcategory` column holds
    category: str  # clothing | shoes | accessories
    shape: str  # the cut-out the renderer draws
    weight: int  # share of a seeded catalog
    price: tuple[float, float]  # realistic USD range, low..high
    materials: tuple[str, ...]
    styles: tuple[str, ...]  # name endings: "Relaxed Shirt", "Chelsea Boots"
    details: tuple[str, ...]  # description fragments
    occasions: tuple[str, ...]
    seasons: tuple[str, ...] = SEASONS
    genders: tuple[str, ...] = ("women", "men", "unisex")
    sizing: str = "apparel"  # apparel | shoes | one


SUBCATEGORIES: tuple[Subcategory, ...] = (
    Subcategory(
        "dresses", "clothing", "dress", 12, (29.0, 420.0),
        ("cotton", "linen", "silk", "satin", "viscose", "chiffon", "jersey", "velvet", "crepe"),
        ("Wrap Midi Dress", "Slip Dress", "Maxi Dress", "Shirt Dress", "A-Line Mini Dress", "Tiered Sundress",
         "Bodycon Dress", "Cocktail Dress", "Smock Dress", "Pleated Midi Dress", "Tea Dress"),
        ("a wrap neckline and a self-tie waist", "adjustable straps and a bias cut that skims the body",
         "a square neckline and puff sleeves", "hidden side pockets", "a smocked bodice and a tiered skirt",
         "a fluid skirt that moves well", "a concealed back zip", "a cowl neck and a low back"),
        ("wedding", "party", "date night", "office", "casual", "beach", "travel"),
        genders=("women",),
    ),
    Subcategory(
        "shirts", "clothing", "shirt", 8, (24.0, 180.0),
        ("cotton", "linen", "oxford cotton", "poplin", "silk", "chambray", "flannel", "seersucker"),
        ("Relaxed Shirt", "Oxford Shirt", "Slim Fit Shirt", "Camp Collar Shirt", "Button-Down Shirt",
         "Overshirt", "Poplin Shirt", "Utility Shirt"),
        ("a camp collar and mother-of-pearl buttons", "a button-down collar and a curved hem",
         "a chest pocket and rolled-up sleeve tabs", "a soft washed finish", "a crisp point collar"),
        ("office", "interview", "casual", "date night", "travel", "wedding"),
    ),
    Subcategory(
        "t-shirts", "clothing", "tshirt", 8, (12.0, 70.0),
        ("cotton", "organic cotton", "jersey", "linen", "pima cotton"),
        ("Crew Neck T-Shirt", "V-Neck T-Shirt", "Boxy Tee", "Pocket Tee", "Longline T-Shirt", "Ribbed Tank Top",
         "Graphic Tee"),
        ("a ribbed crew neck", "dropped shoulders and a boxy fit", "a chest pocket", "a garment-dyed finish",
         "a slightly longer back hem"),
        ("casual", "travel", "sport", "beach"),
    ),
    Subcategory(
        "jeans", "clothing", "trousers", 6, (35.0, 230.0),
        ("denim", "stretch denim", "organic denim", "selvedge denim"),
        ("Straight Leg Jeans", "Skinny Jeans", "Wide Leg Jeans", "Slim Jeans", "Mom Jeans", "Bootcut Jeans",
         "Relaxed Jeans"),
        ("a high rise and five pockets", "a button fly", "a clean hem", "a light stone wash",
         "a little stretch for comfort"),
        ("casual", "travel", "date night"),
        seasons=("spring", "autumn", "winter"),
    ),
    Subcategory(
        "trousers", "clothing", "trousers", 6, (30.0, 240.0),
        ("wool", "cotton twill", "linen", "corduroy", "crepe", "tweed", "chino cotton"),
        ("Tailored Trousers", "Wide Leg Trousers", "Chinos", "Pleated Trousers", "Cargo Trousers",
         "Drawstring Trousers", "Cigarette Trousers"),
        ("a pressed crease and slant pockets", "an elasticated back waist", "front pleats",
         "a tapered leg", "belt loops and a hook-and-bar closure"),
        ("office", "interview", "casual", "travel", "wedding"),
    ),
    Subcategory(
        "shorts", "clothing", "shorts", 3, (18.0, 110.0),
        ("cotton", "linen", "denim", "nylon", "seersucker"),
        ("Chino Shorts", "Denim Shorts", "Linen Shorts", "Running Shorts", "Bermuda Shorts"),
        ("a drawstring waist", "side pockets", "a 7-inch inseam", "a rolled hem"),
        ("casual", "beach", "sport", "travel"),
        seasons=("spring", "summer"),
    ),
    Subcategory(
        "skirts", "clothing", "skirt", 5, (25.0, 190.0),
        ("cotton", "satin", "denim", "wool", "pleated chiffon", "leather", "linen", "tweed"),
        ("Midi Skirt", "Pleated Skirt", "Pencil Skirt", "A-Line Skirt", "Slip Skirt", "Mini Skirt",
         "Wrap Skirt"),
        ("a bias cut and an elastic waist", "knife pleats", "a back vent", "a side zip", "a tie waist"),
        ("office", "party", "date night", "casual", "wedding"),
        genders=("women",),
    ),
    Subcategory(
        "jackets", "clothing", "jacket", 6, (55.0, 480.0),
        ("denim", "leather", "suede", "cotton twill", "wool", "nylon", "corduroy", "tweed"),
        ("Denim Jacket", "Biker Jacket", "Bomber Jacket", "Blazer", "Field Jacket", "Harrington Jacket",
         "Shacket", "Quilted Jacket"),
        ("two chest pockets and a point collar", "an asymmetric zip", "a ribbed collar and cuffs",
         "notch lapels and a single button", "a water-repellent finish", "a detachable hood"),
        ("casual", "office", "travel", "interview", "date night"),
        seasons=("spring", "autumn", "winter"),
    ),
    Subcategory(
        "coats", "clothing", "coat", 5, (89.0, 720.0),
        ("wool", "cashmere", "down", "cotton gabardine", "shearling", "tweed", "wool blend"),
        ("Trench Coat", "Wrap Coat", "Puffer Coat", "Overcoat", "Peacoat", "Parka", "Car Coat"),
        ("a storm flap and a belted waist", "deep welt pockets", "a shawl collar", "a two-way zip",
         "a warm quilted lining"),
        ("office", "travel", "casual", "interview", "wedding"),
        seasons=("autumn", "winter"),
    ),
    Subcategory(
        "knitwear", "clothing", "knit", 7, (29.0, 360.0),
        ("merino wool", "cashmere", "cotton", "mohair", "wool", "fleece"),
        ("Crew Neck Jumper", "Cardigan", "Roll Neck Sweater", "Cable Knit Sweater", "V-Neck Jumper",
         "Hoodie", "Half-Zip Sweater"),
        ("ribbed cuffs and hem", "a relaxed fit", "a chunky cable knit", "a soft brushed finish",
         "horn buttons"),
        ("office", "casual", "travel", "date night"),
        seasons=("autumn", "winter", "spring"),
    ),
    Subcategory(
        "swimwear", "clothing", "swimsuit", 3, (19.0, 160.0),
        ("recycled nylon", "lycra", "nylon", "polyamide"),
        ("Swimsuit", "Bikini Set", "Swim Shorts", "High-Leg Swimsuit", "Rash Guard"),
        ("quick-dry fabric", "a fully lined body", "UPF 50 sun protection", "a scoop back"),
        ("beach", "travel", "sport"),
        seasons=("summer",),
    ),
    Subcategory(
        "activewear", "clothing", "tshirt", 3, (20.0, 130.0),
        ("recycled polyester", "nylon", "merino wool", "cotton"),
        ("Running Top", "Training Tee", "Sports Bra", "Track Jacket", "Yoga Top"),
        ("sweat-wicking fabric", "flatlock seams", "reflective details", "four-way stretch"),
        ("sport", "casual", "travel"),
    ),
    Subcategory(
        "sneakers", "shoes", "sneaker", 6, (45.0, 260.0),
        ("leather", "canvas", "suede", "mesh", "recycled knit"),
        ("Low-Top Sneakers", "High-Top Sneakers", "Running Sneakers", "Court Sneakers", "Slip-On Sneakers",
         "Retro Trainers"),
        ("a cushioned rubber sole", "a padded collar", "contrast stitching", "a breathable lining"),
        ("casual", "sport", "travel"),
        genders=("women", "men", "unisex"),
        sizing="shoes",
    ),
    Subcategory(
        "boots", "shoes", "boot", 5, (69.0, 480.0),
        ("leather", "suede", "waxed leather", "shearling"),
        ("Chelsea Boots", "Ankle Boots", "Combat Boots", "Knee-High Boots", "Hiking Boots", "Western Boots"),
        ("elastic side panels", "a lug sole", "a stacked block heel", "a side zip", "a warm lining"),
        ("casual", "office", "travel", "date night"),
        seasons=("autumn", "winter"),
        sizing="shoes",
    ),
    Subcategory(
        "loafers", "shoes", "loafer", 3, (59.0, 380.0),
        ("leather", "suede", "patent leather"),
        ("Penny Loafers", "Horsebit Loafers", "Tassel Loafers", "Chunky Loafers"),
        ("a leather sole", "a cushioned footbed", "a moc-toe stitch"),
        ("office", "interview", "wedding", "casual"),
        sizing="shoes",
    ),
    Subcategory(
        "heels", "shoes", "heel", 4, (49.0, 460.0),
        ("leather", "suede", "satin", "patent leather"),
        ("Slingback Heels", "Stiletto Pumps", "Block Heel Sandals", "Kitten Heels", "Mules"),
        ("an ankle strap", "a pointed toe", "a padded insole", "a 7 cm heel"),
        ("wedding", "party", "date night", "office", "interview"),
        genders=("women",),
        sizing="shoes",
    ),
    Subcategory(
        "sandals", "shoes", "sandal", 4, (22.0, 210.0),
        ("leather", "suede", "raffia", "rubber"),
        ("Slide Sandals", "Strappy Sandals", "Espadrilles", "Flip Flops", "Sport Sandals"),
        ("a moulded footbed", "adjustable buckles", "a jute sole", "a cushioned sole"),
        ("beach", "casual", "travel", "wedding"),
        seasons=("spring", "summer"),
        sizing="shoes",
    ),
    Subcategory(
        "bags", "accessories", "bag", 6, (29.0, 950.0),
        ("leather", "canvas", "nylon", "suede", "straw", "recycled polyester"),
        ("Tote Bag", "Crossbody Bag", "Shoulder Bag", "Backpack", "Clutch", "Weekender Bag", "Bucket Bag"),
        ("an adjustable strap", "an inner zip pocket", "a magnetic closure", "gold-tone hardware",
         "a padded laptop sleeve"),
        ("office", "travel", "casual", "party", "wedding", "date night"),
        sizing="one",
    ),
    Subcategory(
        "belts", "accessories", "belt", 3, (15.0, 160.0),
        ("leather", "suede", "canvas", "woven leather"),
        ("Leather Belt", "Reversible Belt", "Woven Belt", "Western Belt", "Skinny Belt"),
        ("a brushed metal buckle", "a reversible strap", "five adjustment holes"),
        ("office", "casual", "interview"),
        sizing="one",
    ),
    Subcategory(
        "scarves", "accessories", "scarf", 3, (15.0, 260.0),
        ("cashmere", "wool", "silk", "cotton", "mohair"),
        ("Scarf", "Silk Square Scarf", "Blanket Scarf", "Fringed Scarf", "Bandana"),
        ("fringed edges", "a hand-rolled hem", "an oversized drape"),
        ("office", "travel", "casual", "wedding"),
        seasons=("autumn", "winter", "spring"),
        sizing="one",
    ),
    Subcategory(
        "hats", "accessories", "hat", 3, (15.0, 140.0),
        ("wool", "straw", "cotton", "felt", "canvas"),
        ("Baseball Cap", "Beanie", "Bucket Hat", "Fedora", "Sun Hat", "Panama Hat"),
        ("a wide brim", "an adjustable strap", "a grosgrain band", "a ribbed turn-up"),
        ("beach", "casual", "travel", "sport", "wedding"),
        sizing="one",
    ),
    Subcategory(
        "sunglasses", "accessories", "sunglasses", 3, (19.0, 320.0),
        ("acetate", "metal", "recycled plastic"),
        ("Aviator Sunglasses", "Cat-Eye Sunglasses", "Round Sunglasses", "Square Sunglasses",
         "Wayfarer Sunglasses"),
        ("UV400 polarised lenses", "spring hinges", "a protective case"),
        ("beach", "travel", "casual"),
        seasons=("spring", "summer"),
        sizing="one",
    ),
    Subcategory(
        "jewellery", "accessories", "necklace", 4, (14.0, 520.0),
        ("sterling silver", "gold-plated brass", "gold vermeil", "freshwater pearl"),
        ("Pendant Necklace", "Chain Necklace", "Hoop Earrings", "Stud Earrings", "Bangle", "Signet Ring",
         "Charm Bracelet"),
        ("a lobster clasp", "hypoallergenic posts", "a polished finish", "an adjustable chain"),
        ("wedding", "party", "date night", "office"),
        genders=("women", "unisex"),
        sizing="one",
    ),
    Subcategory(
        "watches", "accessories", "watch", 2, (49.0, 650.0),
        ("stainless steel", "leather", "titanium"),
        ("Chronograph Watch", "Dress Watch", "Field Watch", "Diver Watch", "Minimalist Watch"),
        ("a sapphire crystal", "water resistance to 50 m", "a quick-release strap"),
        ("office", "interview", "wedding", "sport", "travel"),
        sizing="one",
    ),
)
SUBCATEGORY_BY_NAME = {s.name: s for s in SUBCATEGORIES}
CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(s.category for s in SUBCATEGORIES))
METAL_SUBCATEGORIES = frozenset({"jewellery", "watches"})

# Singular and alternative names a shopper or a model may use for a category or subcategory.
CATEGORY_ALIASES = {
    "dress": "dresses", "gown": "dresses", "shirt": "shirts", "blouse": "shirts", "blouses": "shirts",
    "t-shirt": "t-shirts", "tshirt": "t-shirts", "tshirts": "t-shirts", "tee": "t-shirts", "tees": "t-shirts",
    "tank top": "t-shirts", "tops": "t-shirts", "top": "t-shirts", "jean": "jeans", "denim": "jeans",
    "trouser": "trousers", "pants": "trousers", "chinos": "trousers", "short": "shorts", "skirt": "skirts",
    "jacket": "jackets", "blazer": "jackets", "blazers": "jackets", "coat": "coats", "outerwear": "coats",
    "sweater": "knitwear", "sweaters": "knitwear", "jumper": "knitwear", "jumpers": "knitwear",
    "cardigan": "knitwear", "hoodie": "knitwear", "knit": "knitwear", "swimsuit": "swimwear",
    "bikini": "swimwear", "swim": "swimwear", "sportswear": "activewear", "sneaker": "sneakers",
    "trainers": "sneakers", "trainer": "sneakers", "boot": "boots", "loafer": "loafers", "heel": "heels",
    "pumps": "heels", "sandal": "sandals", "bag": "bags", "handbag": "bags", "handbags": "bags",
    "backpack": "bags", "belt": "belts", "scarf": "scarves", "hat": "hats", "cap": "hats",
    "caps": "hats", "sunglass": "sunglasses", "jewelry": "jewellery", "necklace": "jewellery",
    "earrings": "jewellery", "bracelet": "jewellery", "ring": "jewellery", "watch": "watches",
    "clothes": "clothing", "apparel": "clothing", "footwear": "shoes", "shoe": "shoes",
    "accessory": "accessories",
}
GENDER_ALIASES = {
    "woman": "women", "womens": "women", "women's": "women", "female": "women", "ladies": "women",
    "man": "men", "mens": "men", "men's": "men", "male": "men", "unisex": "unisex",
}


def norm_key(value: str) -> str:
    """Lower case, single spaces: the form every alias table is keyed by."""
    return re.sub(r"\s+", " ", value.strip().lower())


def normalise_colour(value: str) -> str:
    """'Ivory' -> 'white', 'navy blue' -> 'navy', 'Red' -> 'red'; unknown names pass through lower-cased."""
    key = norm_key(value)
    if key in SHADE_BY_NAME:
        return SHADE_BY_NAME[key][1]
    return COLOUR_ALIASES.get(key, key)


def normalise_size(value: str) -> str:
    """'m' / 'medium' -> 'M', 'EU 38' -> '38', 'one size' -> 'One Size'."""
    key = norm_key(value)
    if key in SIZE_ALIASES:
        return SIZE_ALIASES[key]
    key = re.sub(r"^(eu|size)\s*", "", key)
    if key.upper() in APPAREL_SIZES:
        return key.upper()
    return key if key.replace(".", "", 1).isdigit() else value.strip()


def normalise_category(value: str) -> str:
    """'Dress' -> 'dresses', 'footwear' -> 'shoes'; unknown names pass through lower-cased."""
    key = norm_key(value)
    return CATEGORY_ALIASES.get(key, key)


def normalise_gender(value: str) -> str:
    key = norm_key(value)
    return GENDER_ALIASES.get(key, key)
