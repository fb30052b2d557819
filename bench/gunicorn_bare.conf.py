"""gunicorn settings for the bare yardstick page (bench/tableapp.py): none; this file only stops gunicorn from
reading the app's ./gunicorn.conf.py, whose hooks need the CRM app."""
