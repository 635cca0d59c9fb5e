"""Modal screens: settings and saved chats."""
