"""The ground floor every other package stands on: the tables' schemas, the settings, constants, fault points."""
