"""The lines a notebook's program starts with (grader.notebook.program), run in the student's namespace in the sandbox.

They stand in for what a kernel gives a notebook: display() and IPython.display when IPython is absent, google.colab
when Colab's own module is absent, %%writefile, and the marker that starts each cell's output (TOKEN is replaced by
the run's token). Every name they leave starts with __grader.
"""

# IPython.get_ipython() answers None, as it does in a plain Python: no shell runs here, and a library that finds one
# (matplotlib's pyplot) would hook itself into it; the stand-in's version is one whose matplotlib needs nothing more.
PROLOGUE = '''\
def __grader_notebook__():
    import importlib.util, sys, types
    def found(name):
        try:
            return importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            return False
    def nothing(*args, **kwargs):
        return None
    if not found("IPython"):
        class Shown:
            def __init__(self, data=None, *args, **kwargs):
                self.data = data
            def __repr__(self):
                return f"<IPython.core.display.{type(self).__name__} object>"
        shown = types.ModuleType("IPython.display")
        shown.display = globals().get("display") or (lambda *objects, **kwargs: print(*objects))
        shown.clear_output = nothing
        for name in ("HTML", "Markdown", "Image", "Latex", "Math", "SVG", "JSON", "Javascript", "Audio", "Video"):
            setattr(shown, name, type(name, (Shown,), {}))
        ipython = types.ModuleType("IPython")
        ipython.display, ipython.get_ipython = shown, nothing
        ipython.version_info, ipython.__version__ = (9, 0, 0, ""), "9.0.0"  # matplotlib reads it
        sys.modules.setdefault("IPython", ipython)
        sys.modules.setdefault("IPython.display", shown)
    if not found("google.colab"):
        try:
            import google
        except ImportError:
            google = types.ModuleType("google")
            google.__path__ = []
            sys.modules.setdefault("google", google)
        colab = types.ModuleType("google.colab")
        colab.__path__ = []
        parts = {"drive": {"mount": nothing, "flush_and_unmount": nothing},
                 "files": {"upload": lambda *args, **kwargs: {}, "download": nothing},
                 "output": {"clear": nothing, "enable_custom_widget_manager": nothing,
                            "disable_custom_widget_manager": nothing},
                 "patches": {"cv2_imshow": globals().get("display") or print}}
        for part, names in parts.items():
            module = types.ModuleType("google.colab." + part)
            module.__dict__.update(names)
            setattr(colab, part, module)
            sys.modules.setdefault("google.colab." + part, module)
        google.colab = colab
        sys.modules.setdefault("google.colab", colab)
__grader_notebook__()
del __grader_notebook__
def __grader_writefile__(arguments, body):
    import importlib, os, shlex, sys
    words = shlex.split(arguments)
    names = [word for word in words if not word.startswith("-")]
    if not names:
        raise ValueError("%%writefile needs the name of the file to write")
    append = "-a" in words or "--append" in words
    print("Appending to" if append else "Overwriting" if os.path.exists(names[0]) else "Writing", names[0])
    with open(names[0], "a" if append else "w", encoding="utf-8") as written:
        written.write(body if body.endswith("\\n") or not body else body + "\\n")
    if os.getcwd() not in sys.path:  # IPython's kernel imports from its working directory
        sys.path.insert(0, os.getcwd())
    importlib.invalidate_caches()
def __grader_cell__(number, _sys=__import__("sys")):
    try:
        _sys.stdout.write("\\n%s:%d\\n" % (TOKEN, number))
    except Exception:
        pass
'''
