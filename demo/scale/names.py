"""Names for generated people: common US first and last names, mixed by a seeded random source
(so 50,000 clients get plausible, repeatable, mostly distinct names)."""


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words(
    """
Aaliyah Aaron Abigail Adam Adrian Aisha Alan Alejandro Alex Alice Alicia Amanda Amara Amir Amy
Ana Andre Andrea Andrew Angela Anita Anna Anthony Arjun Ashley Ava Beatriz Ben Bianca Brandon
Brian Brianna Caleb Camila Carla Carlos Caroline Casey Catherine Chloe Chris Christina Claire
Connor Daniel Danielle David Deborah Denise Derek Diana Diego Dylan Elena Eli Elijah Elizabeth
Ella Emily Emma Eric Erin Ethan Eva Evan Fatima Felix Fiona Gabriel Grace Hannah Hector Helen
Ian Imani Isaac Isabel Jack Jacob Jade James Jamal Jasmine Jason Javier Jenna Jennifer Jesse
Jessica Joel John Jordan Jose Joseph Joshua Julia Julian Justin Karen Kate Kayla Keisha Kevin
Kim Kyle Laura Lauren Leah Leo Liam Lily Linda Lucas Lucia Luis Luke Maria Mark Marta Mason
Matthew Megan Mei Melissa Mia Michael Michelle Miguel Mila Monica Morgan Nadia Naomi Natalie
Nathan Nia Nicole Noah Nora Olivia Omar Oscar Owen Paul Paula Peter Rachel Rafael Rebecca
Riley Robert Rosa Ryan Samantha Samuel Sara Scott Sean Sophia Stephanie Steven Tanya Taylor
Teresa Thomas Tiffany Tyler Valeria Vanessa Victor Victoria William Xavier Yasmin Zoe
"""
)

LAST = _words(
    """
Abbott Acosta Adams Aguilar Ahmed Alexander Ali Allen Alvarez Anderson Andrews Arnold Bailey
Baker Banks Barnes Bates Bell Bennett Bishop Blake Brooks Brown Bryant Burke Burns Butler
Campbell Carroll Carter Castillo Chan Chang Chavez Chen Clark Cole Coleman Collins Cook Cooper
Cruz Cunningham Daniels Davis Diaz Dixon Douglas Duncan Dunn Edwards Ellis Evans Ferguson
Fernandez Fisher Fleming Flores Ford Foster Fox Freeman Garcia Gardner Gibson Gomez Gonzalez
Gordon Graham Grant Gray Green Griffin Gupta Hall Hamilton Harper Harris Hayes Henderson
Hernandez Hill Hoffman Holmes Howard Hughes Hunt Jackson James Jenkins Johnson Jones Jordan
Kaur Kelly Kennedy Khan Kim King Knight Lee Lewis Lin Lopez Marshall Martin Martinez Mason
Matthews Mendoza Meyer Miller Mitchell Moore Morales Morgan Morris Murphy Murray Myers Nelson
Nguyen Novak Ortiz Owens Park Parker Patel Perez Perry Peterson Phillips Powell Price Quinn
Ramirez Ramos Reed Reyes Reynolds Rice Richardson Rivera Roberts Robinson Rodriguez Rogers
Ross Russell Ryan Sanchez Sanders Schmidt Scott Shah Shaw Silva Simmons Singh Smith Snyder
Spencer Stevens Stewart Stone Sullivan Taylor Thomas Thompson Torres Tran Tucker Turner Walker
Wallace Walsh Wang Ward Warren Washington Watson Webb Wells West White Williams Wilson Wong
Wood Wright Wu Young Zhang
"""
)
