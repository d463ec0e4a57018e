"""The Scrapy glue: the item pipelines that normalise, find references and places, classify
and store each item; the settings that enable them; one process running the outlets' spiders
under one run id, with progress bars and a closing summary on a terminal."""
