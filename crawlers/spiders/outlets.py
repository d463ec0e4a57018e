"""A spider per registry entry, so `scrapy crawl baogialai` works: each is its family's
spider with the outlet id fixed. Nothing here is written by hand per outlet."""

from pressmon.crawlers.registry import load_registry
from pressmon.crawlers.spiders.families import FAMILY_SPIDERS


def _outlet_spider(outlet):
    family = FAMILY_SPIDERS[outlet.spider]
    class_name = "".join(part.capitalize() for part in outlet.id.replace("-", "_").split("_")) + "Spider"
    return type(class_name, (family,), {"name": outlet.id, "outlet_id": outlet.id, "__module__": __name__})


OUTLET_SPIDERS = {outlet.id: _outlet_spider(outlet) for outlet in load_registry().values()}
globals().update({cls.__name__: cls for cls in OUTLET_SPIDERS.values()})
