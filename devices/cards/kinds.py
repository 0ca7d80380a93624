"""Registers the card-reader kinds (`em4100`, `card-line`, `social-security`) and their simulators."""

from devices.cards import simulator
from devices.cards.readers import Em4100Reader, LineCardReader
from devices.cards.social_security import SocialSecurityReader
from devices.drivers import DriverKind, register_driver
from devices.simulators.line import create_card_line
from devices.simulators.registry import register_simulator

register_simulator("em4100", simulator.create)
register_simulator("card-line", create_card_line)
register_driver(DriverKind("em4100", Em4100Reader, "EM4100 125 kHz card reader (02…03 frames)", needs_secret=True,
                           simulator="em4100"))
register_driver(DriverKind("card-line", LineCardReader, "Card-number reader writing one line per card",
                           needs_secret=True, simulator="card-line"))
register_driver(DriverKind("social-security", SocialSecurityReader, "Social-security card via PC/SC (pyscard)",
                           needs_secret=True))
