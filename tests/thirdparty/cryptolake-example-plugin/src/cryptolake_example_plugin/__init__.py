"""An example third-party CryptoLake plugin, kept outside the project's packages."""
