"""The services behind the facade (project.py): each receives its collaborators explicitly (a `Parts`
and the other services it uses), never the Project."""
